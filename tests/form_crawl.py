"""Finds the forms of the app by crawling its pages: each place that POSTs, PUTs or DELETEs, with its fields.

Used by tests/test_forms_fuzz.py. html.parser builds a small element tree; a form's fields are read the
way a browser (or htmx) would send them: inputs, selects, textareas and the submit buttons of a <form>,
the `form=` attribute, and for an hx-post/hx-put/hx-delete element its own name and value, `hx-vals`,
`hx-include` and `hx-params`.
"""
import json
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source", "track", "wbr"}
WRITE_ATTRS = (("hx-post", "POST"), ("hx-put", "PUT"), ("hx-patch", "PATCH"), ("hx-delete", "DELETE"))


class Node:
    def __init__(self, tag, attrs, parent):
        self.tag, self.attrs, self.parent, self.children, self.text = tag, attrs, parent, [], []

    def get(self, name, default=None):
        return self.attrs.get(name, default)

    def classes(self) -> set[str]:
        return set((self.get("class") or "").split())

    def walk(self):
        yield self
        for child in self.children:
            yield from child.walk()

    def ancestors(self):
        node = self.parent
        while node is not None:
            yield node
            node = node.parent

    def inner_text(self) -> str:
        return "".join(part for node in self.walk() for part in node.text)


class TreeBuilder(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = Node("#root", {}, None)
        self.stack = [self.root]

    def handle_starttag(self, tag, attrs):
        node = Node(tag, {k: (v if v is not None else "") for k, v in attrs}, self.stack[-1])
        self.stack[-1].children.append(node)
        if tag not in VOID:
            self.stack.append(node)

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in VOID:
            self.stack.pop()

    def handle_endtag(self, tag):
        for i in range(len(self.stack) - 1, 0, -1):
            if self.stack[i].tag == tag:
                del self.stack[i:]
                return

    def handle_data(self, data):
        self.stack[-1].text.append(data)


def parse(html: str) -> Node:
    builder = TreeBuilder()
    builder.feed(html)
    builder.close()
    return builder.root


@dataclass
class Field:
    name: str
    kind: str  # text, email, number, date, password, hidden, checkbox, radio, select, textarea, submit, …
    values: list = field(default_factory=list)  # what the page shows: the value, selected option, checked boxes
    options: list = field(default_factory=list)  # a select's, radio group's or submit buttons' values
    attrs: dict = field(default_factory=dict)


@dataclass
class Target:
    """One place a page writes to: method, URL (with its query) and the fields sent."""
    method: str
    url: str
    fields: dict  # name -> Field
    htmx: bool
    page: str  # where it was found
    endpoint: str = ""

    def signature(self):
        return self.method, self.endpoint, tuple(sorted(self.fields))


def _add(fields: dict, node: Node):
    name = node.get("name")
    if not name or "disabled" in node.attrs:
        return
    tag = node.tag
    if tag == "input":
        kind = (node.get("type") or "text").lower()
        if kind in ("button", "reset", "image", "file"):
            return
        value = node.get("value", "on" if kind in ("checkbox", "radio") else "")
        if kind == "submit":
            kind, sent = "submit", []
        elif kind in ("checkbox", "radio"):
            sent = [value] if "checked" in node.attrs else []
        else:
            sent = [value]
    elif tag == "select":
        kind = "select"
        choices = [o for o in node.walk() if o.tag == "option" and "disabled" not in o.attrs]
        options = [o.get("value", o.inner_text().strip()) for o in choices]
        selected = [o.get("value", o.inner_text().strip()) for o in choices if "selected" in o.attrs]
        sent, value = selected, None  # none selected: a browser sends the first, the fuzz picks one
    elif tag == "textarea":
        # A browser drops the newline that starts a textarea's content.
        kind, sent, value = "textarea", [re.sub(r"^\r?\n", "", node.inner_text())], None
    elif tag == "button":
        if (node.get("type") or "submit").lower() != "submit":
            return
        kind, sent, value = "submit", [], node.get("value", "")
    else:
        return
    entry = fields.get(name)
    if entry is None:
        entry = fields[name] = Field(name, kind, attrs=dict(node.attrs))
    if tag == "select":
        entry.options = options
    elif kind in ("submit", "radio", "checkbox") and value not in entry.options:
        entry.options.append(value)
    entry.values.extend(sent)


CONTROLS = ("input", "select", "textarea", "button")


def _controls(container: Node, root: Node, form_id: str | None = None):
    """The form controls inside `container`, and (for a form with an id) those elsewhere that name it with form=."""
    if container.tag in CONTROLS:
        return [container]
    inside = [n for n in container.walk() if n.tag in CONTROLS and "form" not in n.attrs]
    if form_id:
        inside += [n for n in root.walk() if n.tag in CONTROLS and n.get("form") == form_id]
    return inside


def _include(selector: str, element: Node, root: Node) -> list[Node]:
    """The elements hx-include names: `this`, `closest X`, `#id`, `#id descendant[name=x]` (a pseudo-class such
    as :checked is dropped: the fuzz sends what a user could check)."""
    found = []
    for part in (p.strip() for p in selector.split(",")):
        if not part:
            continue
        if part == "this":
            found.append(element)
        elif part.startswith("closest "):
            tag = part.split()[1]
            found += [a for a in element.ancestors() if a.tag == tag][:1]
        else:
            words = part.split()
            scope = [root]
            for word in words:
                word = re.sub(r":[a-z-]+(\([^)]*\))?", "", word)
                match = re.fullmatch(r"(#(?P<id>[\w-]+))?(?P<tag>[a-z]+)?(\[name=(?P<name>[\w-]+)\])?", word)
                if not match:
                    raise AssertionError(f"hx-include selector the crawler does not understand: {selector!r}")
                scope = [n for s in scope for n in s.walk() if n is not s or s is root
                         if (not match["id"] or n.get("id") == match["id"])
                         and (not match["tag"] or n.tag == match["tag"])
                         and (not match["name"] or n.get("name") == match["name"])]
            found += scope
    return found


def forms_of(html: str, page_url: str) -> list[Target]:
    root = parse(html)
    targets = []
    for node in root.walk():
        if node.tag == "form":
            hx = [(attr, method) for attr, method in WRITE_ATTRS if attr in node.attrs]
            if hx:
                method, url, htmx = hx[0][1], node.get(hx[0][0]), True
            elif (node.get("method") or "get").lower() == "post":
                method, url, htmx = "POST", node.get("action") or page_url, False
            else:
                continue
            fields = {}
            for control in _controls(node, root, node.get("id")):
                _add(fields, control)
            targets.append(Target(method, urljoin(page_url, url), fields, htmx, page_url))
        else:
            for attr, method in WRITE_ATTRS:
                if attr not in node.attrs:
                    continue
                fields = {}
                params = node.get("hx-params", "*")
                # htmx sends the enclosing form of a non-GET request's element, then hx-include, then hx-vals.
                enclosing = [a for a in node.ancestors() if a.tag == "form"][:1]
                for container in enclosing + _include(node.get("hx-include", ""), node, root):
                    for control in _controls(container, root):
                        _add(fields, control)
                _add(fields, node)
                for name, value in json.loads(node.get("hx-vals") or "{}").items():
                    fields[name] = Field(name, "hidden", [str(value)])
                if params == "none":
                    fields = {}
                targets.append(Target(method, urljoin(page_url, node.get(attr)), fields, True, page_url))
    return targets


def links_of(html: str, page_url: str) -> list[str]:
    """Same-site GET links: a href and hx-get (not static files, not fragments of the same page)."""
    found = []
    for node in parse(html).walk():
        for attr in ("href", "hx-get"):
            value = node.get(attr)
            if node.tag in ("link", "script") or not value or value.startswith(("#", "mailto:", "javascript:")):
                continue
            url = urljoin(page_url, value)
            parts = urlsplit(url)
            if parts.netloc or not parts.path.startswith("/") or parts.path.startswith("/static/"):
                continue
            found.append(parts.path + (f"?{parts.query}" if parts.query else ""))
    return found


def crawl_key(url: str) -> tuple:
    """Pages that differ only in the values of these arguments show the same forms: one visit each is enough."""
    parts = urlsplit(url)
    query = tuple(sorted((k, "*" if k in ("page", "before", "after", "last", "period", "q", "status", "user", "table", "type",
                                           "customer", "view") else v) for k, v in parse_qsl(parts.query)))
    return parts.path, query


def with_query(url: str, extra: list[tuple[str, str]]) -> str:
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True) + extra
    return parts.path + (f"?{urlencode(query)}" if query else "")
