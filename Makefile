# tcpops.timewait: `make audit` audits this machine, `make test` runs every test.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV ?= $(CURDIR)/.venv
PYTHON_BOOTSTRAP ?= python3
BUILD := $(CURDIR)/build
COLLECTIONS := $(BUILD)/collections
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements/controller.txt | cksum | cut -d' ' -f1)

export ANSIBLE_COLLECTIONS_PATH := $(COLLECTIONS)
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg
export CONTAINERS_CONF := $(CURDIR)/tests/containers/containers.conf
export PATH := $(BIN):$(PATH)
export PYTHONPATH := $(COLLECTIONS)

.PHONY: help audit test venv collection system-deps test-unit test-sanity test-lint \
        test-galaxy test-integration test-molecule test-changelog bench clean

help:
	@echo "make audit   audit this machine, print a summary, write the reports into ./reports/"
	@echo "make test    install what the tests need, then run them all"
	@echo "make bench   time tcp_state_facts against ss and netstat on planted sockets (root)"

$(STAMP): requirements/controller.txt
	$(PYTHON_BOOTSTRAP) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements/controller.txt
	touch $@

venv: $(STAMP)

collection: venv
	@scripts/link-collection.sh $(COLLECTIONS)

system-deps:
	scripts/install-system-deps.sh

audit: collection
	$(BIN)/ansible-playbook -i localhost, -c local -e tcp_audit_fail_on=never \
	    -e 'ansible_python_interpreter={{ ansible_playbook_python }}' tcpops.timewait.audit

test: system-deps collection
	$(MAKE) test-unit test-changelog test-sanity test-lint test-galaxy test-integration test-molecule

test-unit: collection
	$(BIN)/python -m pytest tests/unit

test-changelog: venv
	$(BIN)/antsibull-changelog lint

test-sanity: collection
	scripts/sanity.sh

test-lint: collection
	$(BIN)/ansible-lint --profile production roles/ playbooks/

test-galaxy: collection
	scripts/galaxy-check.sh $(BUILD)

test-integration: collection
	$(BIN)/python -m pytest tests/integration

test-molecule: system-deps collection
	scripts/molecule.sh

bench: collection
	$(BIN)/python tests/bench/bench.py

clean:
	rm -rf $(BUILD) reports tests/output
