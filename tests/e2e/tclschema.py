# SPDX-License-Identifier: GPL-2.0-only
"""schema/tcpconnlog.schema.json, compiled once for the e2e tests.

python3-jsonschema costs about 120 us a record here (one validator per
record kind), 10 to 20 times that in the VM stage's emulated guests, for
tens of thousands of lines a pass. So the schema is also compiled into
plain Python checks (about 10 us), for the keywords it uses and no other
(an unknown keyword fails the compile): every line is checked by those;
one they refuse is checked again by jsonschema, for its message and as a
cross-check. test_schema.py shows the two agree on real records and on
broken ones. TCL_SCHEMA_JSONSCHEMA=1 checks every line with both and
fails where they disagree: make e2e (the host) sets it.
"""
import json
import os
import re

# keywords that only describe, or that the top level uses to pick a kind
IGNORED = {"description", "title", "$schema", "$id", "$comment"}
TYPES = {
    "null": lambda v: v is None,
    "boolean": lambda v: isinstance(v, bool),
    "string": lambda v: isinstance(v, str),
    "array": lambda v: isinstance(v, list),
    "object": lambda v: isinstance(v, dict),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    # as jsonschema: 1.0 is an integer too
    "integer": lambda v: (isinstance(v, int) and not isinstance(v, bool)) or
    (isinstance(v, float) and v.is_integer()),
}


def _same(a, b):
    """JSON equality: true is not 1, 1.0 is 1."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    return a == b


def _is_number(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def compile_node(node, where="#"):
    """A function of an instance: None when it matches node, else why not."""
    checks = []
    for key, arg in node.items():
        if key in IGNORED:
            continue
        maker = KEYWORDS.get(key)
        if maker is None:
            raise ValueError("%s: keyword %s is not compiled (tclschema.py)" % (where, key))
        checks.append(maker(arg, node, "%s/%s" % (where, key)))
    checks = [c for c in checks if c is not None]
    if len(checks) == 1:
        return checks[0]
    if len(checks) == 2:
        first, second = checks
        return lambda v: first(v) or second(v)

    def check(v):
        for c in checks:
            why = c(v)
            if why:
                return why
        return None
    return check


# the Python types of JSON types, where the type alone decides
PLAIN = {"null": type(None), "boolean": bool, "string": str, "array": list, "object": dict}


def _type(arg, node, where):
    names = [arg] if isinstance(arg, str) else arg
    if all(n in PLAIN for n in names):
        types = tuple(PLAIN[n] for n in names)
        return lambda v: None if type(v) in types else "%r is not of type %s" % (v, arg)
    tests = [TYPES[t] for t in names]
    return lambda v: None if any(t(v) for t in tests) else "%r is not of type %s" % (v, arg)


def _enum(arg, node, where):
    return lambda v: None if any(_same(v, e) for e in arg) else "%r is not one of %s" % (v, arg)


def _const(arg, node, where):
    return lambda v: None if _same(v, arg) else "%r is not %r" % (v, arg)


def _minimum(arg, node, where):
    return lambda v: "%r is less than %r" % (v, arg) if _is_number(v) and v < arg else None


def _maximum(arg, node, where):
    return lambda v: "%r is more than %r" % (v, arg) if _is_number(v) and v > arg else None


def _pattern(arg, node, where):
    rx = re.compile(arg)
    return lambda v: ("%r does not match %s" % (v, arg)
                      if isinstance(v, str) and not rx.search(v) else None)


def _min_length(arg, node, where):
    return lambda v: "%r is too short" % (v,) if isinstance(v, str) and len(v) < arg else None


def _max_length(arg, node, where):
    return lambda v: "%r is too long" % (v,) if isinstance(v, str) and len(v) > arg else None


def _max_items(arg, node, where):
    return lambda v: "too many items" if isinstance(v, list) and len(v) > arg else None


def _items(arg, node, where):
    item = compile_node(arg, where)

    def check(v):
        if isinstance(v, list):
            for i, x in enumerate(v):
                why = item(x)
                if why:
                    return "[%d]: %s" % (i, why)
        return None
    return check


def _properties(arg, node, where):
    props = {k: compile_node(sub, "%s/%s" % (where, k)) for k, sub in arg.items()}

    def check(v):
        if isinstance(v, dict):
            for k, x in v.items():
                c = props.get(k)
                why = c(x) if c else None
                if why:
                    return "%s: %s" % (k, why)
        return None
    return check


def _required(arg, node, where):
    return lambda v: ("missing %s" % [k for k in arg if k not in v]
                      if isinstance(v, dict) and not all(k in v for k in arg) else None)


def _additional(arg, node, where):
    if arg is not False:
        raise ValueError("%s: only additionalProperties false is compiled" % where)
    allowed = set(node.get("properties", {}))
    return lambda v: ("keys %s not allowed" % sorted(set(v) - allowed)
                      if isinstance(v, dict) and not allowed.issuperset(v) else None)


def _dependent_required(arg, node, where):
    def check(v):
        if isinstance(v, dict):
            for k, needs in arg.items():
                if k in v and not all(n in v for n in needs):
                    return "%s needs %s" % (k, needs)
        return None
    return check


KEYWORDS = {
    "type": _type, "enum": _enum, "const": _const, "minimum": _minimum, "maximum": _maximum,
    "pattern": _pattern, "minLength": _min_length, "maxLength": _max_length,
    "maxItems": _max_items, "items": _items, "properties": _properties,
    "required": _required, "additionalProperties": _additional,
    "dependentRequired": _dependent_required,
}


class Schema:
    """The schema's record kinds ($defs), each compiled twice: into plain
    checks (fast) and into a jsonschema validator (the reference); and the
    whole document as jsonschema reads it (full). Lines already checked
    are not checked again: tests that poll stdout parse the same lines many
    times."""

    def __init__(self, path):
        import jsonschema   # here: clients run the test files with python3 -S

        self.path = path
        with open(path) as f:
            self.doc = json.load(f)
        cls = jsonschema.validators.validator_for(self.doc)
        cls.check_schema(self.doc)
        self.full = cls(self.doc)
        defs = self.doc["$defs"]
        # an entry that referred to another would need the whole document
        assert "$ref" not in json.dumps(defs), "a $ref inside $defs"
        self.by_event = {kind: cls(sub) for kind, sub in defs.items()}
        self.fast = {kind: compile_node(sub, "#/$defs/" + kind) for kind, sub in defs.items()}
        self.always_jsonschema = os.environ.get("TCL_SCHEMA_JSONSCHEMA") == "1"
        self.seen = set()

    def reference_error(self, rec):
        """jsonschema's first complaint about rec, or None."""
        event = rec.get("event") if isinstance(rec, dict) else None
        v = self.by_event.get(event) if isinstance(event, str) else None
        if v is None:
            return "not a record kind of the schema"
        for err in v.iter_errors(rec):
            return "at %s: %s" % ("/".join(map(str, err.absolute_path)) or "top", err.message)
        return None

    def fast_error(self, rec):
        """The compiled checks' first complaint about rec, or None."""
        event = rec.get("event") if isinstance(rec, dict) else None
        c = self.fast.get(event) if isinstance(event, str) else None
        return "not a record kind of the schema" if c is None else c(rec)

    def check(self, rec, line=None):
        """AssertionError unless rec is a record of the schema."""
        key = hash(line) if line is not None else None
        if key in self.seen:
            return
        if self.always_jsonschema:
            # both, so that every real line of the run also tests the compile
            why, fast = self.reference_error(rec), self.fast_error(rec)
            assert bool(why) == bool(fast), (
                "jsonschema (%s) and the compiled checks (%s) disagree: %s"
                % (why or "accepts", fast or "accept", line or json.dumps(rec)))
        elif self.fast_error(rec):
            why = self.reference_error(rec)
            assert why, "the compiled checks refuse what jsonschema accepts (%s): %s" % (
                self.fast_error(rec), line or json.dumps(rec))
        else:
            why = None
        if why:
            raise AssertionError("does not match %s %s\nline: %s" % (
                os.path.basename(self.path), why, line or json.dumps(rec)))
        if key is not None:
            self.seen.add(key)
