"""Reading a page as a browser would: the CSRF token and the fields of a form. No import of the panel, so
the locustfile (run by locust under gevent) can use it."""
import html.parser
import re

TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


class FormFields(html.parser.HTMLParser):
    """The fields a browser would submit from the first <form> of a page (enabled ones only)."""

    def __init__(self):
        super().__init__()
        self.fields: dict[str, str] = {}
        self._select: str | None = None
        self._first_option: str | None = None
        self._textarea: str | None = None
        self._forms = 0
        self._done = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if self._done:
            return
        if tag == "form":
            self._forms += 1
            return
        if "disabled" in a or not a.get("name"):
            if tag == "option" and self._select is not None:
                value = a.get("value", "")
                if self._first_option is None:
                    self._first_option = value
                if "selected" in a:
                    self.fields[self._select] = value
            return
        name = a["name"]
        if tag == "input":
            kind = a.get("type", "text")
            if kind in ("checkbox", "radio"):
                if "checked" in a:
                    self.fields[name] = a.get("value", "y")
            elif kind not in ("submit", "button", "image", "file"):
                self.fields[name] = a.get("value", "")
        elif tag == "select":
            self._select, self._first_option = name, None
        elif tag == "textarea":
            self._textarea = name
            self.fields[name] = ""

    def handle_data(self, data):
        if self._textarea is not None:
            self.fields[self._textarea] += data

    def handle_endtag(self, tag):
        if tag == "select" and self._select is not None:
            self.fields.setdefault(self._select, self._first_option or "")
            self._select = None
        elif tag == "textarea":
            self._textarea = None
        elif tag == "form" and self._forms:
            self._done = True


def form_fields(page: str, marker: str | None = None) -> dict[str, str]:
    """The fields of the first form of `page` (or of the first form after `marker`)."""
    if marker is not None and marker in page:
        page = page[page.rfind("<form", 0, page.index(marker)):]
    parser = FormFields()
    parser.feed(page)
    return dict(parser.fields)
