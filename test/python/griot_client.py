"""A Python client of Griot, for the cross-language test.

Stubs are generated from proto/ at test time (protoc with Debian's
grpc_python_plugin) into the folder given as --stubs; this script then, with
no Griot code of its own:

1. uploads bytes to the content store in chunks (UploadBlob, client streaming)
   and reads them back (ReadContent, server streaming), checking SHA-256;
2. lists packages from the registry (ListPackages);
3. watches an installation (WatchInstallation) until its stream ends;
4. asks both services' reflection (v1 and v1alpha) what they serve, sending
   its requests and then closing its side, as grpcurl does: the stream must
   then end with OK, not run into its deadline.

It signs its own caller tokens (Ed25519 with the `cryptography` package, the
JWT built by hand from the README's description of the format): as an
uploader identity it makes, and as the job's node, whose seed it is given.

It prints one JSON object with what it saw. Run with /usr/bin/python3.
"""
import argparse
import hashlib
import json
import base64
import os
import sys
import time
import uuid

BASE58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


def base58btc(data: bytes) -> str:
    number = int.from_bytes(data, "big")
    out = ""
    while number:
        number, digit = divmod(number, 58)
        out = BASE58[digit] + out
    return "1" * (len(data) - len(data.lstrip(b"\0"))) + out


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


class Identity:
    """An Ed25519 did:key that signs caller tokens exactly as the README documents them."""

    def __init__(self, seed: bytes):
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
        from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

        self.key = Ed25519PrivateKey.from_private_bytes(seed)
        public = self.key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        # did:key:z + base58btc(multicodec ed25519-pub 0xed 0x01 || the 32-byte key)
        self.did = "did:key:z" + base58btc(b"\xed\x01" + public)

    def token(self, audience: str, ttl: int = 60) -> str:
        """A fresh caller token: header {alg, typ, kid}, claims {iss, sub, aud, iat, exp, jti}."""
        header = {"alg": "EdDSA", "typ": "JWT", "kid": self.did + "#" + self.did[len("did:key:") :]}
        now = int(time.time())
        claims = {"iss": self.did, "sub": self.did, "aud": audience, "iat": now, "exp": now + ttl, "jti": str(uuid.uuid4())}
        signing_input = b64url(json.dumps(header).encode()) + "." + b64url(json.dumps(claims).encode())
        return signing_input + "." + b64url(self.key.sign(signing_input.encode("ascii")))

    def auth(self, audience: str):
        return [("authorization", "Bearer " + self.token(audience))]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--stubs", required=True)
    parser.add_argument("--content", required=True)
    parser.add_argument("--registry", required=True)
    parser.add_argument("--job", required=True)
    # The job's node's Ed25519 seed (hex): this client signs its own caller
    # tokens with it to watch the job, and uploads as an identity it makes.
    parser.add_argument("--node-seed", required=True)
    parser.add_argument("--size", type=int, default=3 * 1024 * 1024 + 17)
    parser.add_argument("--chunk", type=int, default=256 * 1024)
    args = parser.parse_args()

    sys.path.insert(0, args.stubs)
    uploader = Identity(os.urandom(32))
    node = Identity(bytes.fromhex(args.node_seed))
    result = {"node_did": node.did}
    import grpc
    from griot.content.v1 import content_service_pb2 as content_pb
    from griot.content.v1 import content_service_pb2_grpc as content_grpc
    from griot.registry.v1 import registry_service_pb2 as registry_pb
    from griot.registry.v1 import registry_service_pb2_grpc as registry_grpc


    # 1. Upload in chunks, then read back.
    data = os.urandom(args.size)
    digest = hashlib.sha256(data).hexdigest()
    upload_id = str(uuid.uuid4())

    def chunks():
        offset = 0
        first = True
        while offset < len(data):
            piece = data[offset : offset + args.chunk]
            request = content_pb.UploadBlobRequest(
                offset=offset, data=piece, finish_write=offset + len(piece) >= len(data)
            )
            if first:
                request.start.CopyFrom(
                    content_pb.UploadStart(upload_id=upload_id, sha256=digest, size=len(data))
                )
                first = False
            offset += len(piece)
            yield request

    with grpc.insecure_channel(args.content) as channel:
        store = content_grpc.ContentServiceStub(channel)
        uploaded = store.UploadBlob(chunks(), timeout=60, metadata=uploader.auth("griot-content"))
        result["upload"] = {
            "complete": uploaded.complete,
            "committed_size": uploaded.committed_size,
            "sha256": uploaded.blob.sha256,
            "chunks": (len(data) + args.chunk - 1) // args.chunk,
        }
        status = store.GetUploadStatus(content_pb.GetUploadStatusRequest(upload_id=upload_id), timeout=10)
        result["upload_status"] = {"complete": status.complete, "committed_size": status.committed_size}
        received = bytearray()
        messages = 0
        for message in store.ReadContent(
            content_pb.ReadContentRequest(blob=content_pb.BlobRef(sha256=digest)), timeout=60
        ):
            received.extend(message.data)
            messages += 1
        result["read"] = {
            "size": len(received),
            "messages": messages,
            "matches": bytes(received) == data,
            "sha256": hashlib.sha256(received).hexdigest(),
        }
        ranged = b"".join(
            m.data
            for m in store.ReadContent(
                content_pb.ReadContentRequest(blob=content_pb.BlobRef(sha256=digest), offset=1000, limit=5000),
                timeout=30,
            )
        )
        result["ranged_read_matches"] = ranged == data[1000:6000]
        result["expected_sha256"] = digest

    # 2 and 3. List packages, then watch the installation to its end.
    with grpc.insecure_channel(args.registry) as channel:
        registry = registry_grpc.RegistryServiceStub(channel)
        listed = registry.ListPackages(registry_pb.ListPackagesRequest(page_size=10), timeout=10)
        result["packages"] = [
            {"package_id": p.package_id, "name": p.manifest["name"], "author_did": p.author_did}
            for p in listed.packages
        ]
        lines = []
        statuses = []
        for event in registry.WatchInstallation(
            registry_pb.WatchInstallationRequest(job_id=args.job),
            timeout=60,
            metadata=node.auth("griot-registry"),
        ):
            if event.first_line != len(lines):
                result["gap_or_duplicate_at"] = event.first_line
            lines.extend(event.lines)
            statuses.append(registry_pb.InstallationStatus.Name(event.status))
        result["watch"] = {"lines": lines, "final_status": statuses[-1] if statuses else None}

        # A bad request gets a precise status a Python program can act on.
        try:
            registry.GetPackage(registry_pb.GetPackageRequest(package_id="not-a-digest"), timeout=10)
            result["bad_request"] = None
        except grpc.RpcError as err:
            result["bad_request"] = {"code": err.code().name, "details": err.details()}

    # 4. Reflection: send, half-close, read every answer until the stream ends.
    import reflection_v1_pb2 as reflection_v1_pb
    import reflection_v1_pb2_grpc as reflection_v1_grpc
    import reflection_v1alpha_pb2 as reflection_v1alpha_pb
    import reflection_v1alpha_pb2_grpc as reflection_v1alpha_grpc

    result["reflection"] = {}
    for service, address in (("content", args.content), ("registry", args.registry)):
        for version, pb, stubs in (
            ("v1", reflection_v1_pb, reflection_v1_grpc),
            ("v1alpha", reflection_v1alpha_pb, reflection_v1alpha_grpc),
        ):
            with grpc.insecure_channel(address) as channel:
                requests = iter([pb.ServerReflectionRequest(list_services=""), pb.ServerReflectionRequest(list_services="")])
                answers = []
                try:
                    for answer in stubs.ServerReflectionStub(channel).ServerReflectionInfo(requests, timeout=15):
                        answers.append(sorted(s.name for s in answer.list_services_response.service))
                    ended = "OK"
                except grpc.RpcError as err:
                    ended = err.code().name
                result["reflection"][f"{service} {version}"] = {"answers": answers, "ended": ended}

    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
