"""JSON and XML: reading keys from JSON text, JSON lists, XPath on XML (or JSON) text.

JSON text is read as Zoho reads it, leniently (runtime.jsontext). `executeXPath` on JSON text
first turns it into XML under a `<root>` element, each key an element of that name, as Zoho's
page describes (`/root/address/city` gives `<city>Surat</city>`)."""

from __future__ import annotations

import re

from ..builtins import builtin, text_arg
from ..errors import DelugeError
from ..jsontext import from_lenient_json
from ..values import json_text, to_text


@builtin("getJSON", on="text", aliases=("getJson",),
         doc="the value of a key in a JSON object text (keys and texts may go without quotes); "
             "null when the key is absent")
def _get_json(s, key):
    try:
        value = from_lenient_json(s)
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
         doc="what an XPath expression selects in XML text, or in JSON text under /root: texts "
             "with text(), else the elements (an attribute @name as <name>value</name>) as XML")
def _execute_xpath(s, xpath):
    import xml.etree.ElementTree as ET

    xpath = text_arg(xpath, "executeXPath", 1).strip()
    if s.lstrip()[:1] in ("{", "["):
        try:
            s = _json_as_xml(from_lenient_json(s))
        except ValueError as e:
            raise DelugeError(f"executeXPath: the text is not JSON ({e})") from None
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
    if attribute is not None:  # an attribute comes back as an element, so calls chain
        return "".join(_element(attribute, e.get(attribute)) for e in found
                       if e.get(attribute) is not None)
    if want_text:
        return "".join(e.text or "" for e in found)
    return "".join(ET.tostring(e, encoding="unicode") for e in found)


def _element(name: str, text: str) -> str:
    from xml.sax.saxutils import escape

    return f"<{name}>{escape(text)}</{name}>"


def _xml_name(key: str) -> str:
    name = re.sub(r"[^\w.-]", "_", key) or "_"
    return name if re.match(r"[A-Za-z_]", name) else "_" + name


def _json_as_xml(value) -> str:
    """JSON values as XML under <root>: a key is an element; a list repeats its key's element."""
    out: list[str] = []

    def put(name: str, v):
        if isinstance(v, list):
            for item in v:
                put(name, item)
        elif isinstance(v, dict):
            out.append(f"<{name}>")
            for k, x in v.items():
                put(_xml_name(k), x)
            out.append(f"</{name}>")
        else:
            out.append(_element(name, to_text(v)))

    if isinstance(value, list):  # a top-level array: its elements under <root>, as <element>
        out.append("<root>")
        for item in value:
            put("element", item)
        out.append("</root>")
    else:
        put("root", value)
    return "".join(out)


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


@builtin("toXML", on="text", aliases=("toXml",),
         doc="the JSON (or key-value) text as XML under <root>: an array repeats its key's tag")
def _text_to_xml(s):
    from ..jsontext import from_lenient_json

    try:
        value = from_lenient_json(s)
    except ValueError as e:
        raise DelugeError(f"toXML: the text is not JSON ({e})") from None
    if not isinstance(value, (dict, list)):
        raise DelugeError("toXML: the text is not JSON (an object or an array)")
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
