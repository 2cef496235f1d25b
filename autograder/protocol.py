"""The wire format between the trusted grader and the worker that runs student code.

Every message is a 4-byte big-endian length followed by that many bytes of UTF-8 JSON.
Values that JSON cannot say directly travel as tagged objects::

    {"$": "tuple",    "items": [...]}
    {"$": "dict",     "items": [[key, value], ...]}        keys: str or int
    {"$": "ndarray",  "dtype": "float64", "shape": [..], "data": base64 of the raw bytes}
    {"$": "tensor",   ...same fields...}                    a torch tensor, sent as its numpy array
    {"$": "npscalar", "dtype": "float64", "data": base64}   a numpy scalar such as np.float64(1.5)

The arguments of a call may hold *stand-ins* (a noise schedule, a toy denoiser): dicts
``{"$standin": NAME, field: value, ...}`` that travel as ordinary dicts and that the worker rebuilds
into an object of one of the few types :mod:`autograder.standins` declares.

Two halves with different trust:

* :func:`encode` runs in the worker, on whatever the student's function returned. It never has to be
  safe: the worker is untrusted, and a tampered worker can send any bytes it likes.
* :func:`decode` runs in the grader and trusts nothing. It builds only exact builtin types and plain
  ``numpy.ndarray`` objects (from raw bytes with ``np.frombuffer``, numeric dtypes only), so nothing
  the student wrote is ever executed, unpickled or asked to compare itself.
"""

from __future__ import annotations

import base64
import json
import struct
import sys

import numpy as np

HEADER = struct.Struct(">I")
MAX_MESSAGE_BYTES = 64 * 1024 * 1024
MAX_DEPTH = 32
STANDIN_KEY = "$standin"      # marks a stand-in among a call's arguments (see autograder.standins)

# Only plain numeric and boolean dtypes cross the boundary (no objects, strings, records or pickles).
ALLOWED_DTYPES = frozenset(
    ["bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
     "float16", "float32", "float64", "complex64", "complex128"]
)


class ProtocolError(Exception):
    """The other side sent something that is not a well-formed message."""


class TensorArray(np.ndarray):
    """Marker type for arrays that were torch tensors in the worker (see :func:`decode`)."""


# ----------------------------------------------------------------------------- framing

def frame(message) -> bytes:
    """Serialize one message (already encoded to JSON-able data) with its length prefix."""
    body = json.dumps(message, allow_nan=True, separators=(",", ":")).encode("utf-8")
    if len(body) > MAX_MESSAGE_BYTES:
        raise ProtocolError(f"message of {len(body)} bytes is larger than the {MAX_MESSAGE_BYTES}-byte limit")
    return HEADER.pack(len(body)) + body


class FrameReader:
    """Accumulates bytes and yields complete messages; refuses oversize or malformed frames."""

    def __init__(self, max_bytes: int = MAX_MESSAGE_BYTES):
        self.buffer = bytearray()
        self.max_bytes = max_bytes

    def feed(self, data: bytes) -> list:
        self.buffer.extend(data)
        messages = []
        while len(self.buffer) >= HEADER.size:
            (length,) = HEADER.unpack_from(self.buffer)
            if length > self.max_bytes:
                raise ProtocolError(f"message of {length} bytes is larger than the {self.max_bytes}-byte limit")
            if len(self.buffer) < HEADER.size + length:
                break
            body = bytes(self.buffer[HEADER.size:HEADER.size + length])
            del self.buffer[:HEADER.size + length]
            try:
                messages.append(json.loads(body.decode("utf-8")))
            except (UnicodeDecodeError, ValueError, RecursionError) as error:
                raise ProtocolError(f"message is not valid JSON: {error}") from None
        return messages


# ----------------------------------------------------------------------------- worker side

def encode(value, depth: int = 0):
    """Turn a Python value into JSON-able data (worker side; see the module docstring)."""
    if depth > MAX_DEPTH:
        raise TypeError(f"value is nested more than {MAX_DEPTH} levels deep")
    if value is None or isinstance(value, (bool, int, float, str)) and type(value) in (bool, int, float, str):
        return value
    if isinstance(value, np.generic) and value.dtype.name in ALLOWED_DTYPES:
        return {"$": "npscalar", "dtype": value.dtype.name, "data": _b64(np.asarray(value).tobytes())}
    if isinstance(value, np.ndarray):
        return _encode_array("ndarray", np.asarray(value))
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(value, torch.Tensor):
        return _encode_array("tensor", value.detach().cpu().numpy())
    if isinstance(value, (bool, int, float, str)):        # subclasses of builtins become the builtin
        return _plain_builtin(value)
    if isinstance(value, tuple):
        return {"$": "tuple", "items": [encode(item, depth + 1) for item in value]}
    if isinstance(value, list):
        return [encode(item, depth + 1) for item in value]
    if isinstance(value, dict):
        return {"$": "dict", "items": [[encode(key, depth + 1), encode(item, depth + 1)] for key, item in value.items()]}
    raise TypeError(f"cannot send a value of type {type(value).__name__} to the grader; return numbers, arrays, tensors, tuples, lists or dicts")


def _plain_builtin(value):
    for kind in (bool, int, float, str):
        if isinstance(value, kind):
            return kind(value)
    raise TypeError(type(value).__name__)


def _encode_array(tag: str, array: np.ndarray) -> dict:
    array = np.require(array, requirements="C")        # not ascontiguousarray: it turns 0-d arrays into shape (1,)
    if array.dtype.name not in ALLOWED_DTYPES:
        raise TypeError(f"cannot send an array of dtype {array.dtype}; use a numeric or boolean dtype")
    return {"$": tag, "dtype": array.dtype.name, "shape": list(array.shape), "data": _b64(array.tobytes())}


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


# ----------------------------------------------------------------------------- grader side

def decode(data, depth: int = 0):
    """Rebuild a value from JSON data, trusting nothing (grader side).

    Returns only ``None``, ``bool``, ``int``, ``float``, ``str``, ``list``, ``tuple``, ``dict``,
    exact ``numpy.ndarray`` (arrays that were tensors come back as ``TensorArray`` views, which
    :func:`is_tensor` recognizes; :func:`as_array` turns them back into plain arrays) and numpy
    scalars of the allowed dtypes.
    """
    if depth > MAX_DEPTH:
        raise ProtocolError(f"value is nested more than {MAX_DEPTH} levels deep")
    kind = type(data)
    if data is None or kind in (bool, int, float, str):
        return data
    if kind is list:
        return [decode(item, depth + 1) for item in data]
    if kind is not dict:
        raise ProtocolError(f"unexpected JSON value of type {kind.__name__}")
    tag = data.get("$")
    if tag == "tuple":
        return tuple(decode(item, depth + 1) for item in _field(data, "items", list))
    if tag == "dict":
        result = {}
        for pair in _field(data, "items", list):
            if type(pair) is not list or len(pair) != 2 or type(pair[0]) not in (str, int):
                raise ProtocolError("dict items must be [key, value] pairs with str or int keys")
            result[pair[0]] = decode(pair[1], depth + 1)
        return result
    if tag in ("ndarray", "tensor"):
        array = _decode_array(data)
        return array.view(TensorArray) if tag == "tensor" else array
    if tag == "npscalar":
        dtype = _dtype(data)
        raw = base64.b64decode(_field(data, "data", str), validate=True)
        if len(raw) != dtype.itemsize:
            raise ProtocolError("numpy scalar has the wrong number of bytes")
        return np.frombuffer(raw, dtype=dtype)[0]
    raise ProtocolError(f"unknown tagged value {str(tag)[:40]!r}")


def _decode_array(data: dict) -> np.ndarray:
    dtype = _dtype(data)
    shape = _field(data, "shape", list)
    if len(shape) > MAX_DEPTH or any(type(n) is not int or n < 0 for n in shape):
        raise ProtocolError("array shape must be a list of non-negative ints")
    raw = base64.b64decode(_field(data, "data", str), validate=True)
    count = 1
    for n in shape:
        count *= n
    if count * dtype.itemsize != len(raw):
        raise ProtocolError(f"array of shape {tuple(shape)} and dtype {dtype} needs {count * dtype.itemsize} bytes, got {len(raw)}")
    # a writable copy, so later code can never be surprised by a read-only buffer
    return np.frombuffer(raw, dtype=dtype).reshape(shape).copy()


def _dtype(data: dict) -> np.dtype:
    name = _field(data, "dtype", str)
    if name not in ALLOWED_DTYPES:
        raise ProtocolError(f"dtype {name[:40]!r} is not allowed")
    return np.dtype(name)


def _field(data: dict, name: str, kind: type):
    value = data.get(name)
    if type(value) is not kind:
        raise ProtocolError(f"field {name!r} must be a {kind.__name__}")
    return value


def is_tensor(value) -> bool:
    """True when a decoded value was a torch tensor in the worker."""
    return type(value) is TensorArray


def as_array(value) -> np.ndarray:
    """A decoded array or tensor as a plain ``numpy.ndarray`` (anything else is returned unchanged)."""
    if type(value) is TensorArray:
        return value.view(np.ndarray)
    return value
