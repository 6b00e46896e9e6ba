"""JSON and XML: reading keys from JSON text, JSON lists, XPath on XML text."""

from __future__ import annotations

from ..builtins import builtin, text_arg
from ..errors import DelugeError
from ..values import from_json, json_text, to_text


@builtin("getJSON", on="text", aliases=("getJson",),
         doc="the value of a key in a JSON object text")
def _get_json(s, key):
    try:
        value = from_json(s)
    except ValueError as e:
        raise DelugeError(f"getJSON: the text is not valid JSON ({e})") from None
    if not isinstance(value, dict):
        raise DelugeError("getJSON: the JSON text is not an object {...}")
    return value.get(text_arg(key, "getJSON", 1))


@builtin("getJSON", on="map", aliases=("getJson",), doc="the value of a key")
def _map_get_json(m, key):
    return m.get(text_arg(key, "getJSON", 1))


@builtin("toJSONList", on="list", aliases=("toListString",),
         doc="the elements as text (maps and lists as JSON text)")
def _list_to_json_list(lst):
    return [json_text(v) if isinstance(v, (dict, list)) else to_text(v) for v in lst]


@builtin("executeXPath", on="text", aliases=("executeXpath",),
         doc="what an XPath expression selects in XML text: texts with text(), attributes "
             "with @name, else the elements as XML")
def _execute_xpath(s, xpath):
    import xml.etree.ElementTree as ET

    xpath = text_arg(xpath, "executeXPath", 1).strip()
    try:
        root = ET.fromstring(s)
    except ET.ParseError as e:
        raise DelugeError(f"executeXPath: the text is not XML ({e})") from None
    want_text = xpath.endswith("/text()")
    if want_text:
        xpath = xpath[: -len("/text()")]
    attribute = None
    if "/@" in xpath:
        xpath, attribute = xpath.rsplit("/@", 1)
    if xpath.startswith("//"):
        path = "." + xpath
    elif xpath.startswith("/"):
        steps = xpath.strip("/").split("/", 1)
        if steps[0] not in (root.tag, "*"):
            return ""
        path = "./" + steps[1] if len(steps) > 1 else "."
    else:
        path = "./" + xpath
    try:
        found = root.findall(path) if path != "." else [root]
    except SyntaxError as e:
        raise DelugeError(f"executeXPath: {xpath!r} is not an XPath this supports ({e})") \
            from None
    if attribute is not None:
        return "".join(e.get(attribute, "") for e in found)
    if want_text:
        return "".join(e.text or "" for e in found)
    return "".join(ET.tostring(e, encoding="unicode") for e in found)
