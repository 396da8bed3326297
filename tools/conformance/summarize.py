"""Summarise the junit XML of a conformance run (see run.sh): pass rates and one line per failure."""
import re
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

# Upstream tests/openapi files that exercise what a standalone engine without cluster,
# snapshots, shard transfer, on-disk storage internals or telemetry internals cannot serve.
# They are not copied (see MANIFEST.md); listed here so the classification lives in one place.
NOT_SERVABLE = {
    "test_cluster.py": "cluster API (consensus, peers)",
    "test_snapshot.py": "collection snapshots",
    "test_snapshot_z.py": "full-storage snapshots",
    "test_shard_snapshot.py": "shard snapshots",
    "test_shard_key.py": "custom sharding / shard keys",
    "test_db_lock.py": "storage lock API (removed)",
    "test_indexing_progress.py": "optimizer/indexing progress internals",
    "test_optimizations.py": "optimizer internals (/optimizations)",
    "test_block_hashes.py": "segment block hashes (internal)",
    "test_deferred_points.py": "deferred points (optimizer internals)",
    "test_index_deferred_points.py": "deferred points (optimizer internals)",
}


# Upstream tests that assert behaviour added after Qdrant 1.19 (a 1.19 node fails them too).
POST_1_19 = {
    "test_collection_created_at.py": "collection `created_at` is not in the 1.19 spec's CollectionInfo",
}


def cases(xml_path):
    if not xml_path.exists():
        return []
    out = []
    for tc in ET.parse(xml_path).getroot().iter("testcase"):
        file = tc.get("classname", "").split(".")[-1] + ".py"
        name = f'{tc.get("classname", "").split(".")[-1]}::{tc.get("name")}'
        bad = tc.find("failure")
        if bad is None:
            bad = tc.find("error")
        skipped = tc.find("skipped") is not None
        status = "skipped" if skipped else ("failed" if bad is not None else "passed")
        text = "" if bad is None else ((bad.get("message") or "") + "\n" + (bad.text or ""))
        out.append((file, name, status, text))
    return out


def first_error_line(text):
    m = re.search(r'details = "([^"]*)"', text)
    if m:  # a gRPC error: its status text says more than the exception's repr
        return "RpcError: " + m.group(1)
    for line in text.splitlines():
        if line.startswith("E   "):
            return re.sub(r"\s+", " ", line[1:].strip())
    return re.sub(r"\s+", " ", text.strip().splitlines()[0] if text.strip() else "")


def openapi_category(text):
    if "OperationNotFound" in text:
        return "HARNESS stale-test (route not in the 1.19 spec)"
    if "Failed: Timeout" in text:
        return "timeout"
    if "ValidationError" in text and "schemathesis" in text:
        return "response does not match the 1.19 schema"
    if re.search(r"assert \d{3} == \d{3}", text) or "status_code" in text:
        return "status code"
    return "behaviour/result"


def congruence_category(text, transport):
    if "Failed: Timeout" in text:
        return "timeout"
    if "Unknown arguments" in text or "object has no attribute 'search_distance_matrix" in text:
        return "HARNESS: test version written for an older qdrant-client API"
    if "Query vector must not contain NaN" in text:
        return "HARNESS: client 1.20 local mode raises ValueError where the test expects AssertionError"
    if transport == "grpc" and "RpcError" in text and "UnexpectedResponse" in text:
        return "HARNESS: REST-only test forced onto gRPC (RpcError instead of UnexpectedResponse)"
    if transport == "grpc" and re.search(r"payload = (None|\{\}), \S+ = (\{\}|None)", text):
        return "HARNESS: official client's gRPC conversion (empty payload None vs {})"
    if transport == "grpc" and re.search(r"values = \[\d\.\d{12,}", text):
        return "HARNESS: official client's gRPC conversion (float32 values compared exactly)"
    if "UnexpectedResponse" in text or "RpcError" in text:
        return "server error"
    if "AttributeError" in text or "TypeError" in text:
        return "client/harness error"
    if "assert" in text:
        return "result differs from local mode"
    return "other"


DEPRECATED_ROUTE = re.compile(r"/points/(search|recommend|discover)(/batch|/groups)?['\"]")


def uses_deprecated_routes(file):
    """Files calling the routes Qdrant 1.19 still serves but dropped from its openapi.json."""
    path = Path(__file__).parent / "qdrant-openapi-tests" / "tests" / "openapi" / file
    return path.exists() and bool(DEPRECATED_ROUTE.search(path.read_text()))


def main(out):
    out = Path(out)
    oa = cases(out / "openapi.xml")
    stale = [c for c in oa if c[2] == "failed" and "OperationNotFound" in c[3]]
    servable = [c for c in oa if c[0] not in NOT_SERVABLE and c[0] not in POST_1_19
                and c not in stale and c[2] != "skipped"]
    post = [c for c in oa if c[0] in POST_1_19]
    passed = sum(1 for c in servable if c[2] == "passed")
    print(f"REST behaviour tests (qdrant tests/openapi, servable): {passed}/{len(servable)} passed"
          f" = {100.0 * passed / max(1, len(servable)):.1f}%"
          f"  [excluded: {len(post)} post-1.19 tests, {len(stale)} stale-route failures]")
    modern = [c for c in servable if not uses_deprecated_routes(c[0])]
    mpassed = sum(1 for c in modern if c[2] == "passed")
    print(f"  of which in files using only routes of the 1.19 spec: {mpassed}/{len(modern)} passed"
          f" = {100.0 * mpassed / max(1, len(modern)):.1f}%"
          f"; files that also call the deprecated search/recommend/discover routes:"
          f" {passed - mpassed}/{len(servable) - len(modern)}")
    for file, name, status, text in oa:
        if status == "failed" and file in POST_1_19:
            print(f"  (excluded, post-1.19) {name} | {POST_1_19[file]}")
        elif status == "failed":
            print(f"  FAIL openapi  {name} | {openapi_category(text)} | {first_error_line(text)[:170]}")
    for transport in ("rest", "grpc"):
        cg = cases(out / f"congruence_{transport}.xml")
        failed = [c for c in cg if c[2] == "failed"]
        ran = [c for c in cg if c[2] != "skipped"]
        harness = [c for c in failed if congruence_category(c[3], transport).startswith("HARNESS")]
        print(f"congruence over {transport.upper()}: {len(failed)} failing of {len(ran)}"
              f" ({len(failed) - len(harness)} not attributed to the harness, {len(harness)} harness artefacts)")
        for _file, name, _status, text in failed:
            print(f"  FAIL {transport:4s} {name} | {congruence_category(text, transport)} | {first_error_line(text)[:170]}")


if __name__ == "__main__":
    main(sys.argv[1])
