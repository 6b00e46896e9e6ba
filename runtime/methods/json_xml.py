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


# -- toXML and toXmlList
#
# Zoho's toXML reads the JSON with org.json and writes it with org.json's XML writer under a
# <root> tag: an array repeats its key's tag, an empty text is <key/>, and the keys come in the
# order of the Java HashMap that org.json keeps them in (its help page shows "OrderNo" before
# "Name"), which java_hashmap_order reproduces.


def java_hashmap_order(keys: list) -> list:
    """`keys` (in insertion order) in the order a java.util.HashMap holding them iterates:
    by bucket (the String hash, spread, masked by a capacity doubled from 16 while the map is
    over 3/4 full), then by insertion within a bucket."""
    capacity = 16
    while len(keys) > capacity * 3 // 4:
        capacity *= 2

    def bucket(key: str) -> int:
        h = 0
        units = key.encode("utf-16-be")
        for i in range(0, len(units), 2):
            h = (31 * h + (units[i] << 8 | units[i + 1])) & 0xFFFFFFFF
        return (h ^ (h >> 16)) & (capacity - 1)

    return [k for _, _, k in sorted((bucket(k), i, k) for i, k in enumerate(keys))]


def _xml_escape(text: str) -> str:
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;").replace("'", "&apos;"))


def _xml_of(value, tag: str) -> str:
    if isinstance(value, dict):
        out = [f"<{tag}>"]
        for key in java_hashmap_order(list(value)):
            item = value[key]
            if isinstance(item, list):
                out.extend(f"<{key}>{_xml_of(x, None)}</{key}>" if isinstance(x, list)
                           else _xml_of(x, key) for x in item)
            elif item == "":
                out.append(f"<{key}/>")
            else:
                out.append(_xml_of(item, key))
        out.append(f"</{tag}>")
        return "".join(out)
    if isinstance(value, list):
        return "".join(_xml_of(x, tag or "array") for x in value)
    text = _xml_escape(to_text(value))
    if tag is None:
        return f'"{text}"'
    return f"<{tag}/>" if text == "" else f"<{tag}>{text}</{tag}>"


def _lenient_json(text: str):
    """JSON as Zoho's examples write it: keys without quotes and texts in single quotes
    ({Name:'Lia Shelton', OrderNo:[343,443,577]}) become standard JSON first."""
    import re

    token = re.compile(r'"(?:[^"\\]|\\.)*"|\'((?:[^\'\\]|\\.)*)\'|\d[\d.]*[eE][+-]?\d+'
                       r'|([A-Za-z_$][\w$]*)(\s*:)?|[^"\'A-Za-z_$]+', re.DOTALL)
    out = []
    for m in token.finditer(text):
        single, word, colon = m.group(1), m.group(2), m.group(3)
        if single is not None:
            out.append('"' + single.replace("\\'", "'").replace('"', '\\"') + '"')
        elif word is not None:
            out.append(f'"{word}"{colon}' if colon or word not in ("true", "false", "null")
                       else word)
        else:
            out.append(m.group(0))
    return from_json("".join(out))


@builtin("toXML", on="text", aliases=("toXml",),
         doc="the JSON (or key-value) text as XML under <root>: an array repeats its key's tag")
def _text_to_xml(s):
    try:
        value = from_json(s)
    except ValueError:
        try:
            value = _lenient_json(s)
        except ValueError as e:
            raise DelugeError(f"toXML: the text is not JSON ({e})") from None
    return _xml_of(value, "root")


@builtin("toXML", on="map", aliases=("toXml",), doc="the map as XML under <root>")
def _map_to_xml(m):
    return _xml_of(m, "root")


@builtin("toXmlList", on="text", aliases=("toXMLList",),
         doc="the XML elements of the text (as executeXPath gives them) as a list of XML texts")
def _to_xml_list(s):
    import re
    import xml.etree.ElementTree as ET

    body = re.sub(r"^\s*<\?xml[^>]*\?>", "", s)
    try:
        root = ET.fromstring(f"<sluice-list>{body}</sluice-list>")
    except ET.ParseError as e:
        raise DelugeError(f"toXmlList: the text is not XML ({e})") from None
    out = []
    for element in root:
        element.tail = None
        out.append(ET.tostring(element, encoding="unicode"))
    return out
