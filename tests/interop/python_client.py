#!/usr/bin/python3
# Interop client for tests/interop_test.ts: a Python grpcio client of Ganache.
"""A Python grpcio client that exercises Ganache over mutual TLS.

Usage: python_client.py ADDRESS CERTS_DIR OUT_DIR [--no-client-cert]

ADDRESS is "host:port" of the server, CERTS_DIR holds ca.crt, client.crt and
client.key, and OUT_DIR is a scratch directory where protoc generates the
message modules (cfe_pb2, health_pb2) from the repository's .proto files.
Stubs are written by hand, as there is no grpc_tools plugin.

Default mode: Set, Get (hit, miss), Set with an empty key, health Check and an
Int64Value write; prints one JSON line with the results.

--no-client-cert mode: connects with the CA only (no client certificate) and
expects the call to fail with UNAVAILABLE; prints {"no_client_cert": CODE}.

Exits 0 on success, 1 with a message on stderr on any failure.
"""

import importlib.util
import json
import os
import subprocess
import sys

try:
    import grpc
    from google.protobuf import any_pb2, empty_pb2, wrappers_pb2
except ImportError as import_error:
    sys.exit(
        f"python_client: {import_error}; "
        "run: apt-get install -y python3-grpcio python3-protobuf protobuf-compiler"
    )

PROTO_DIR = os.path.normpath(
    os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared", "wire", "proto")
)
NAMESPACE = "interop"
TIMEOUT_S = 10
SERVER_NAME = "localhost"
STRING_VALUE_URL = "type.googleapis.com/google.protobuf.StringValue"


class InteropError(Exception):
    """A check of the interop scenario failed."""


def generate_modules(out_dir):
    """Runs protoc on the repository's protos and imports the generated modules."""
    protos = ["ganache/cfe/cfe.proto", "grpc/health/v1/health.proto"]
    result = subprocess.run(
        ["protoc", "-I", PROTO_DIR, "--python_out", out_dir, *protos],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise InteropError(f"protoc failed ({result.returncode}): {result.stderr.strip()}")
    # Loaded by path: "grpc.health.v1" as a package name would clash with grpcio's "grpc".
    cfe_pb2 = load_module("cfe_pb2", os.path.join(out_dir, "ganache", "cfe", "cfe_pb2.py"))
    health_pb2 = load_module(
        "health_pb2", os.path.join(out_dir, "grpc", "health", "v1", "health_pb2.py")
    )
    return cfe_pb2, health_pb2


def load_module(name, path):
    """Imports the Python file at path as a module called name."""
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def read_file(path):
    """Reads a file as bytes."""
    with open(path, "rb") as handle:
        return handle.read()


def open_channel(address, certs_dir, client_cert=True):
    """Opens a TLS channel to ADDRESS, presenting the client certificate if asked."""
    ca = read_file(os.path.join(certs_dir, "ca.crt"))
    if client_cert:
        credentials = grpc.ssl_channel_credentials(
            root_certificates=ca,
            private_key=read_file(os.path.join(certs_dir, "client.key")),
            certificate_chain=read_file(os.path.join(certs_dir, "client.crt")),
        )
    else:
        credentials = grpc.ssl_channel_credentials(root_certificates=ca)
    # The server certificate names localhost, 127.0.0.1 and ::1; check it as localhost.
    options = [("grpc.ssl_target_name_override", SERVER_NAME)]
    return grpc.secure_channel(address, credentials, options=options)


def make_stub(channel, cfe_pb2, health_pb2):
    """Hand-written stubs for the methods the scenario calls."""

    def unary(path, request_type, response_type):
        return channel.unary_unary(
            path,
            request_serializer=request_type.SerializeToString,
            response_deserializer=response_type.FromString,
        )

    return {
        "get": unary("/ganache.cfe.CFE/Get", cfe_pb2.GetRequest, cfe_pb2.GetResponse),
        "set": unary("/ganache.cfe.CFE/Set", cfe_pb2.SetRequest, empty_pb2.Empty),
        "health": unary(
            "/grpc.health.v1.Health/Check",
            health_pb2.HealthCheckRequest,
            health_pb2.HealthCheckResponse,
        ),
    }


def succeed(what, call):
    """Runs call() and returns its result; a gRPC failure names the step."""
    try:
        return call()
    except grpc.RpcError as error:
        raise InteropError(f"{what}: failed with {error.code().name}: {error.details()}") from error


def status_of(what, call):
    """Runs call() and returns the name of the status code it fails with."""
    try:
        call()
    except grpc.RpcError as error:
        return error.code().name
    raise InteropError(f"{what}: expected the call to fail, but it succeeded")


def expect(actual, expected, what):
    """Raises InteropError unless actual == expected."""
    if actual != expected:
        raise InteropError(f"{what}: expected {expected!r}, got {actual!r}")


def run_scenario(stub, cfe_pb2, health_pb2):
    """The mutual TLS scenario; returns the results to print."""

    def pack(message):
        data = any_pb2.Any()
        data.Pack(message)
        return data

    def set_value(key, message):
        request = cfe_pb2.SetRequest(namespace=NAMESPACE, key=key, data=pack(message), ttl_ms=0)
        return stub["set"](request, timeout=TIMEOUT_S)

    def get_value(key):
        return stub["get"](cfe_pb2.GetRequest(namespace=NAMESPACE, key=key), timeout=TIMEOUT_S)

    greeting = wrappers_pb2.StringValue(value="hello from python")
    succeed("Set from-python", lambda: set_value("from-python", greeting))

    response = succeed("Get from-deno", lambda: get_value("from-deno"))
    expect(response.data.type_url, STRING_VALUE_URL, "from-deno type URL")
    from_deno = wrappers_pb2.StringValue()
    if not response.data.Unpack(from_deno):
        raise InteropError("from-deno: could not unpack a StringValue")

    missing = status_of("Get of a missing key", lambda: get_value("no-such-key"))
    expect(missing, "NOT_FOUND", "Get of a missing key")

    empty_key = status_of(
        "Set with an empty key", lambda: set_value("", wrappers_pb2.StringValue(value="x"))
    )
    expect(empty_key, "INVALID_ARGUMENT", "Set with an empty key")

    health_request = health_pb2.HealthCheckRequest(service="")
    health = succeed("health Check", lambda: stub["health"](health_request, timeout=TIMEOUT_S))
    health_name = health_pb2.HealthCheckResponse.ServingStatus.Name(health.status)
    expect(health_name, "SERVING", "health Check")

    minus_42 = wrappers_pb2.Int64Value(value=-42)
    succeed("Set int-from-python", lambda: set_value("int-from-python", minus_42))

    return {
        "from_deno": from_deno.value,
        "missing": missing,
        "empty_key": empty_key,
        "health": health_name,
    }


def run_no_client_cert(stub, cfe_pb2):
    """Calls Get without a client certificate; the server must refuse the handshake."""
    request = cfe_pb2.GetRequest(namespace=NAMESPACE, key="k")
    code = status_of(
        "Get without a client certificate", lambda: stub["get"](request, timeout=TIMEOUT_S)
    )
    expect(code, "UNAVAILABLE", "Get without a client certificate")
    return {"no_client_cert": code}


def main(argv):
    """Parses the arguments, runs the chosen mode and prints the JSON result."""
    args = [arg for arg in argv[1:] if not arg.startswith("--")]
    flags = {arg for arg in argv[1:] if arg.startswith("--")}
    if len(args) != 3 or not flags <= {"--no-client-cert"}:
        usage = f"usage: {argv[0]} ADDRESS CERTS_DIR OUT_DIR [--no-client-cert]"
        print(usage, file=sys.stderr)
        return 2
    address, certs_dir, out_dir = args

    try:
        cfe_pb2, health_pb2 = generate_modules(out_dir)
        no_client_cert = "--no-client-cert" in flags
        with open_channel(address, certs_dir, client_cert=not no_client_cert) as channel:
            stub = make_stub(channel, cfe_pb2, health_pb2)
            if no_client_cert:
                result = run_no_client_cert(stub, cfe_pb2)
            else:
                result = run_scenario(stub, cfe_pb2, health_pb2)
    except (InteropError, OSError) as error:
        print(f"python_client: {error}", file=sys.stderr)
        return 1

    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
