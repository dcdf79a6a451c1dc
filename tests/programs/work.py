# work.py - builds a few MB of dicts, lists and strings, serialises them
# (json, pickle, repr), reads them back and prints digests and sizes.  The
# output depends only on the input (run with PYTHONHASHSEED=0).
import hashlib, json, pickle, sys

n = int(sys.argv[1]) if len(sys.argv) > 1 else 60000
records = []
index = {}
for i in range(n):
    key = "k%07d" % ((i * 7919) % n)
    rec = {"id": i, "name": key * (1 + i % 5), "tags": [str(j) for j in range(i % 9)],
           "score": (i * 31) % 1000 / 7.0, "nested": {"a": i, "b": [i, i * 2, key]}}
    records.append(rec)
    index.setdefault(key[:5], []).append(i)
    if i % 3 == 0 and records:
        records[i // 2]["name"] += "!"          # strings grow (realloc)
    if i % 11 == 0:
        index.pop("k%04d" % (i % 1000), None)   # dicts shrink
text = json.dumps(records, sort_keys=True)
blob = pickle.dumps((records, index), protocol=4)
back = json.loads(text)
assert back == records
again = pickle.loads(blob)
assert again[0] == records
words = sorted(set(text.split('"')))
print("records", len(records), "index", len(index), "words", len(words))
print("json", len(text), hashlib.sha256(text.encode()).hexdigest())
print("pickle", len(blob), hashlib.sha256(blob).hexdigest())
print("repr", hashlib.sha256(repr(sorted(index.items())).encode()).hexdigest())
