# tcpops.timewait: `make audit` audits this machine, `make test` runs every test.
SHELL := /bin/bash
.DEFAULT_GOAL := help

# Two virtualenvs: the runtime one holds what running the playbooks needs (requirements/runtime.txt),
# the test one adds the test toolchain (requirements/test.txt). Each is reinstalled when its pinned
# requirements change (the stamp's name carries their checksum).
VENV ?= $(CURDIR)/.venv
RUNTIME_VENV ?= $(CURDIR)/.venv-runtime
PYTHON_BOOTSTRAP ?= python3
BUILD := $(CURDIR)/build
COLLECTIONS := $(BUILD)/collections
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-test-$(shell cat requirements/runtime.txt requirements/test.txt | cksum | cut -d' ' -f1)
RUNTIME_STAMP := $(RUNTIME_VENV)/.installed-runtime-$(shell cat requirements/runtime.txt | cksum | cut -d' ' -f1)
# ansible-lint (through ansible-compat) and ansible-galaxy install into ANSIBLE_HOME: keep that under
# build/, so that no copy of this checkout lands in ~/.ansible/collections and shadows it later.
PRIVATE_ANSIBLE_HOME := $(BUILD)/ansible-home
EE_DEFINITION := docs/examples/execution-environment.yml
SYSTEM_PATH := $(PATH)

export ANSIBLE_COLLECTIONS_PATH := $(COLLECTIONS)
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg
export CONTAINERS_CONF := $(CURDIR)/tests/containers/containers.conf
export PATH := $(BIN):$(SYSTEM_PATH)
export PYTHONPATH := $(COLLECTIONS)

.PHONY: help audit test venv runtime-venv collection system-deps test-unit test-sanity test-lint \
        test-galaxy test-ee test-integration test-molecule test-changelog test-images bench bench-fleet bench-html clean

help:
	@echo "make audit   audit this machine, print a summary, write the reports into ./reports/"
	@echo "make test    install what the tests need, then run them all"
	@echo "make bench   time tcp_state_facts against ss and netstat on planted sockets, and namespaces: all"
	@echo "             against nsenter + ss looped over 50 namespaces (root)"

$(RUNTIME_STAMP): requirements/runtime.txt
	test -x $(RUNTIME_VENV)/bin/python || $(PYTHON_BOOTSTRAP) -m venv $(RUNTIME_VENV)
	$(RUNTIME_VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements/runtime.txt
	touch $@

$(STAMP): requirements/runtime.txt requirements/test.txt
	test -x $(BIN)/python || $(PYTHON_BOOTSTRAP) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements/test.txt
	touch $@

runtime-venv: $(RUNTIME_STAMP)

venv: $(STAMP)

collection:
	@scripts/link-collection.sh $(COLLECTIONS)

system-deps:
	scripts/install-system-deps.sh

audit: export PATH := $(RUNTIME_VENV)/bin:$(SYSTEM_PATH)
audit: runtime-venv collection
	$(RUNTIME_VENV)/bin/ansible-playbook -i localhost, -c local -e tcp_audit_fail_on=never \
	    -e 'ansible_python_interpreter={{ ansible_playbook_python }}' tcpops.timewait.audit

test: system-deps venv collection
	$(MAKE) test-unit test-changelog test-sanity test-lint test-galaxy test-ee test-integration test-molecule

test-unit: venv collection
	$(BIN)/python -m pytest tests/unit

test-changelog: venv
	$(BIN)/antsibull-changelog lint

test-sanity: venv collection
	scripts/sanity.sh

test-lint: export ANSIBLE_HOME := $(PRIVATE_ANSIBLE_HOME)
test-lint: venv collection
	$(BIN)/ansible-lint --profile production roles/ playbooks/ $(EE_DEFINITION)

test-galaxy: export ANSIBLE_HOME := $(PRIVATE_ANSIBLE_HOME)
test-galaxy: venv collection
	scripts/galaxy-check.sh $(BUILD)

test-ee: export ANSIBLE_HOME := $(PRIVATE_ANSIBLE_HOME)
test-ee: venv
	scripts/ee-check.sh $(EE_DEFINITION) $(BUILD)

# the Debian images the integration tests, molecule and bench-fleet start containers from (built once, no registry)
test-images: system-deps
	tests/containers/build-image.sh

test-integration: venv collection test-images
	$(BIN)/python -m pytest tests/integration

test-molecule: system-deps venv collection
	scripts/molecule.sh

bench: venv collection
	$(BIN)/python tests/bench/bench.py
	$(BIN)/python tests/bench/bench_namespaces.py

bench-fleet: system-deps venv collection test-images
	$(BIN)/python tests/bench/bench_fleet.py
	$(BIN)/python tests/bench/bench_report_task.py

bench-html: venv collection
	$(BIN)/python tests/bench/bench_html.py

clean:
	rm -rf $(BUILD) reports tests/output
