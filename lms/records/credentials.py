"""Verifiable credentials signed by the platform: one key, one cryptosuite, local contexts only.

Every credential the platform issues (Open Badges 3.0 certificates, CLR 2.0 records, Bitstring
Status List credentials) is secured here with a W3C Data Integrity proof of cryptosuite
``eddsa-rdfc-2022``: the proof options (with the document's ``@context``) and the document are
each canonicalised with RDF Dataset Canonicalization (RDFC-1.0, by ``pyld``), hashed with
SHA-256, and the concatenation is signed with the platform's Ed25519 key. The published proof
carries exactly the options that were signed, ``@context`` included.

JSON-LD contexts are served to ``pyld`` from the copies in ``lms/records/contexts/`` only (see
its README); any other URL is refused, so signing and verifying never touch the network.

The verification method is dereferenceable: ``/credentials/issuer`` is the controller document
(DID-core shaped, listing the key under ``assertionMethod``) and ``/credentials/issuer/key-1``
the Multikey document of the key itself.
"""
from __future__ import annotations

import base64
import gzip
import hashlib
import json
import os
from functools import lru_cache

from flask import current_app

CRYPTOSUITE = "eddsa-rdfc-2022"
B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
CONTEXTS_DIR = os.path.join(os.path.dirname(__file__), "contexts")

VC_V2 = "https://www.w3.org/ns/credentials/v2"
OB_V3 = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
CLR_V2 = "https://purl.imsglobal.org/spec/clr/v2p0/context-2.0.1.json"
DID_V1 = "https://www.w3.org/ns/did/v1"
MULTIKEY_V1 = "https://w3id.org/security/multikey/v1"
DATA_INTEGRITY_V2 = "https://w3id.org/security/data-integrity/v2"

#: Context URL -> file in ``contexts/``. The only documents the JSON-LD processor may load.
LOCAL_CONTEXTS = {
    VC_V2: "credentials-v2.jsonld",
    OB_V3: "ob-v3p0-context-3.0.3.json",
    CLR_V2: "clr-v2p0-context-2.0.1.json",
    DID_V1: "did-v1.jsonld",
    MULTIKEY_V1: "multikey-v1.jsonld",
    DATA_INTEGRITY_V2: "data-integrity-v2.jsonld",
}

#: Bits in one status list: the specification's minimum (16 KiB), for group privacy.
STATUS_LIST_BITS = 131072


class CredentialError(Exception):
    """A credential could not be signed or checked (e.g. it names a context that is not local)."""


# --- contexts ----------------------------------------------------------------------------------


@lru_cache(maxsize=None)
def _context(url: str) -> dict:
    name = LOCAL_CONTEXTS.get(url)
    if name is None:
        raise CredentialError(f"JSON-LD context not available locally (network fetches are refused): {url}")
    with open(os.path.join(CONTEXTS_DIR, name), encoding="utf-8") as fh:
        return json.load(fh)


def document_loader(url, options=None):
    """A ``pyld`` document loader that serves the vendored contexts and refuses everything else."""
    from pyld.jsonld import JsonLdError

    try:
        document = _context(url)
    except (CredentialError, OSError) as exc:
        raise JsonLdError(str(exc), "jsonld.LoadDocumentError", code="loading document failed") from exc
    return {"contextUrl": None, "documentUrl": url, "document": document}


def canonize(document: dict) -> str:
    """RDFC-1.0 canonical N-Quads of a JSON-LD document (contexts from local copies only)."""
    from pyld import jsonld

    try:
        return jsonld.normalize(document, {"algorithm": "URDNA2015", "format": "application/n-quads",
                                           "documentLoader": document_loader})
    except jsonld.JsonLdError as exc:
        raise CredentialError(f"cannot canonicalise the document: {exc}") from exc


# --- keys --------------------------------------------------------------------------------------


def key_path() -> str:
    # The file name predates this module (certificates were the first credentials): keep it.
    return current_app.config.get("LMS_BADGE_KEY_PATH") or os.path.join(current_app.instance_path,
                                                                         "competency-badge-key.pem")


def signing_key():
    """The platform's Ed25519 private key, generated into the instance folder on first use."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    cached = current_app.extensions.get("lms_signing_key")
    path = key_path()
    if cached and cached[0] == path:
        return cached[1]
    if os.path.exists(path):
        with open(path, "rb") as fh:
            key = serialization.load_pem_private_key(fh.read(), password=None)
    else:
        key = Ed25519PrivateKey.generate()
        os.makedirs(os.path.dirname(path), exist_ok=True)
        pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process generated it first: use theirs
            current_app.extensions.pop("lms_signing_key", None)
            return signing_key()
        with os.fdopen(fd, "wb") as fh:
            fh.write(pem)
    current_app.extensions["lms_signing_key"] = (path, key)
    return key


def public_key_bytes(key=None) -> bytes:
    from cryptography.hazmat.primitives import serialization

    key = key or signing_key().public_key()
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def b58encode(data: bytes) -> str:
    n = int.from_bytes(data, "big")
    out = ""
    while n:
        n, r = divmod(n, 58)
        out = B58[r] + out
    return "1" * (len(data) - len(data.lstrip(b"\0"))) + out


def b58decode(text: str) -> bytes:
    n = 0
    for ch in text:
        n = n * 58 + B58.index(ch)
    raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return b"\0" * (len(text) - len(text.lstrip("1"))) + raw


def public_multibase(key=None) -> str:
    """The public key as Multikey ``publicKeyMultibase`` (base58btc of 0xed01 + the raw key)."""
    return "z" + b58encode(b"\xed\x01" + public_key_bytes(key))


def public_jwk() -> dict:
    x = base64.urlsafe_b64encode(public_key_bytes()).rstrip(b"=").decode()
    return {"kty": "OKP", "crv": "Ed25519", "x": x, "kid": key_id(), "use": "sig", "alg": "EdDSA"}


def base_url() -> str:
    return current_app.config["LMS_PUBLIC_URL"].rstrip("/")


def issuer_id() -> str:
    """The issuer's id: the URL of its controller document."""
    return base_url() + "/credentials/issuer"


def key_id() -> str:
    """The verification method: a URL that answers with the Multikey document of the key."""
    return issuer_id() + "/key-1"


def issuer_profile() -> dict:
    """The issuer as an Open Badges ``Profile`` embedded in credentials."""
    return {"id": issuer_id(), "type": ["Profile"], "name": current_app.config.get("LMS_SITE_NAME", "LMS")}


def key_document() -> dict:
    """The Multikey document served at :func:`key_id`."""
    return {"@context": MULTIKEY_V1, "id": key_id(), "type": "Multikey", "controller": issuer_id(),
            "publicKeyMultibase": public_multibase()}


def controller_document() -> dict:
    """The controller document served at :func:`issuer_id` (DID-core shaped, as verifiers read it)."""
    method = {k: v for k, v in key_document().items() if k != "@context"}
    return {"@context": [DID_V1, MULTIKEY_V1], "id": issuer_id(),
            "name": current_app.config.get("LMS_SITE_NAME", "LMS"),
            "verificationMethod": [method], "assertionMethod": [key_id()], "authentication": [key_id()]}


# --- proofs ------------------------------------------------------------------------------------


def _hash_data(proof_options: dict, document: dict) -> bytes:
    return (hashlib.sha256(canonize(proof_options).encode()).digest()
            + hashlib.sha256(canonize(document).encode()).digest())


def sign(credential: dict, *, created=None) -> dict:
    """``credential`` with a ``DataIntegrityProof`` (``eddsa-rdfc-2022``) replacing any earlier proof."""
    from lms.core.db import utcnow

    document = {k: v for k, v in credential.items() if k != "proof"}
    if "@context" not in document:
        raise CredentialError("a credential needs an @context")
    options = {"@context": document["@context"], "type": "DataIntegrityProof", "cryptosuite": CRYPTOSUITE,
               "created": (created or utcnow()).strftime("%Y-%m-%dT%H:%M:%SZ"),
               "verificationMethod": key_id(), "proofPurpose": "assertionMethod"}
    signature = signing_key().sign(_hash_data(options, document))
    return {**document, "proof": {**options, "proofValue": "z" + b58encode(signature)}}


def verify(credential: dict, public_key=None) -> bool:
    """Check the platform's own ``eddsa-rdfc-2022`` proof (for its own pages; outside verifiers
    use their own code, and the test suite checks this one against Digital Bazaar's)."""
    from cryptography.exceptions import InvalidSignature

    proof = credential.get("proof")
    if isinstance(proof, list):
        proof = proof[0] if len(proof) == 1 else None
    if not isinstance(proof, dict) or proof.get("cryptosuite") != CRYPTOSUITE:
        return False
    if proof.get("verificationMethod") != key_id() or proof.get("proofPurpose") != "assertionMethod":
        return False
    document = {k: v for k, v in credential.items() if k != "proof"}
    options = {k: v for k, v in proof.items() if k != "proofValue"}
    if options.get("@context", document.get("@context")) != document.get("@context"):
        return False
    options["@context"] = document.get("@context")
    value = proof.get("proofValue") or ""
    try:
        data = _hash_data(options, document)
        (public_key or signing_key().public_key()).verify(b58decode(value[1:]), data)
    except (InvalidSignature, CredentialError, ValueError):
        return False
    return value.startswith("z")


# --- Bitstring Status List -------------------------------------------------------------------


def encode_status_list(indexes_set, length: int = STATUS_LIST_BITS) -> str:
    """``encodedList``: multibase base64url (``u``) of the GZIP of the bitstring; index 0 is the
    left-most bit of the first byte."""
    bits = bytearray(length // 8)
    for index in indexes_set:
        if 0 <= index < length:
            bits[index // 8] |= 0x80 >> (index % 8)
    return "u" + base64.urlsafe_b64encode(gzip.compress(bytes(bits), mtime=0)).rstrip(b"=").decode()


def decode_status_list(encoded: str) -> bytes:
    data = encoded[1:] if encoded.startswith("u") else encoded
    return gzip.decompress(base64.urlsafe_b64decode(data + "=" * (-len(data) % 4)))


def status_entry(list_url: str, index: int, purpose: str = "revocation") -> dict:
    """The ``credentialStatus`` of a credential whose bit is ``index`` in the list at ``list_url``."""
    return {"id": f"{list_url}#{index}", "type": "BitstringStatusListEntry", "statusPurpose": purpose,
            "statusListIndex": str(index), "statusListCredential": list_url}


def status_list_credential(list_url: str, set_indexes, *, valid_from, purpose: str = "revocation") -> dict:
    """A signed ``BitstringStatusListCredential`` with the bits of ``set_indexes`` set."""
    credential = {
        "@context": [VC_V2], "id": list_url, "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": issuer_id(), "validFrom": valid_from.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "credentialSubject": {"id": list_url + "#list", "type": "BitstringStatusList", "statusPurpose": purpose,
                              "encodedList": encode_status_list(set_indexes)},
    }
    return sign(credential)
