"""Schemathesis hooks for the ledger node's API (docs/openapi.yaml): CBOR bodies.

Request bodies of `application/cbor` are arbitrary bytes (the node must refuse any it
cannot read with a 400, never fail); CBOR answers are checked for their status and
content type, their content being the wire types of docs/protocol.md.
"""

import schemathesis
from hypothesis import strategies as st

schemathesis.openapi.media_type("application/cbor", st.binary(max_size=512))


@schemathesis.deserializer("application/cbor")
def cbor_bytes(ctx, response):
    # The bytes as hex text: the schema says "a binary string"; what they mean is the
    # wire type's business (docs/protocol.md), checked by the Rust tests.
    return response.content.hex()
