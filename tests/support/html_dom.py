"""A dumped DOM (Chromium ``--dump-dom``) as a tree, to assert on what a reader sees."""

from html.parser import HTMLParser

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class Node:
    def __init__(self, tag, attrs, parent):
        self.tag = tag
        self.attrs = dict(attrs)
        self.parent = parent
        self.children = []

    @property
    def classes(self):
        return set((self.attrs.get("class") or "").split())

    def text(self):
        return " ".join(" ".join(c.text() if isinstance(c, Node) else c for c in self.children).split())

    def walk(self):
        for child in self.children:
            if isinstance(child, Node):
                yield child
                yield from child.walk()

    def find(self, tag=None, cls=None, id=None):
        return [n for n in self.walk() if (tag is None or n.tag == tag) and (cls is None or cls in n.classes)
                and (id is None or n.attrs.get("id") == id)]

    def one(self, tag=None, cls=None, id=None):
        found = self.find(tag, cls, id)
        assert len(found) == 1, "%d elements match tag=%s class=%s id=%s" % (len(found), tag, cls, id)
        return found[0]

    def rows(self):
        """A table's rows as lists of cell texts (header row included)."""
        return [[cell.text() for cell in row.children if isinstance(cell, Node) and cell.tag in ("td", "th")]
                for row in self.find("tr")]


class Dom(HTMLParser):
    """Tags, ids and the text of a dumped DOM, and the element tree (``root``)."""

    def __init__(self, text):
        HTMLParser.__init__(self)
        self.root = Node("#document", [], None)
        self.current = self.root
        self.tags = []
        self.ids = set()
        self.chunks = []
        self.feed(text)
        self.text = " ".join(self.chunks)

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.ids.update(value for name, value in attrs if name == "id")
        node = Node(tag, attrs, self.current)
        self.current.children.append(node)
        if tag not in VOID:
            self.current = node

    def handle_startendtag(self, tag, attrs):
        self.tags.append(tag)
        self.ids.update(value for name, value in attrs if name == "id")
        self.current.children.append(Node(tag, attrs, self.current))

    def handle_endtag(self, tag):
        node = self.current
        while node is not self.root and node.tag != tag:
            node = node.parent
        if node is not self.root:
            self.current = node.parent

    def handle_data(self, data):
        self.chunks.append(data)
        self.current.children.append(data)

    def find(self, tag=None, cls=None, id=None):
        return self.root.find(tag, cls, id)

    def one(self, tag=None, cls=None, id=None):
        return self.root.one(tag, cls, id)
