#!/usr/bin/env python3
"""An independent decryptor for Strongroom backups, written from docs/FORMAT.md alone.

usage: decrypt.py RECOVERY_FILE PASSPHRASE_FILE BACKUP_FILE OUT_FILE
Needs the Python `cryptography` package (>= 44, for Argon2id) and the `zstd` command.
Prints the manifest as JSON on stdout.
"""
import hashlib
import json
import struct
import subprocess
import sys

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.argon2 import Argon2id


def key_id(key: bytes) -> bytes:
    return hashlib.sha256(b"strongroom/key-id/v1" + key).digest()[:16]


def open_recovery(f: bytes, passphrase: str) -> dict:
    assert f[:8] == b"SRRECOV\x01", "not a recovery file"
    assert struct.unpack(">H", f[8:10])[0] == 1, "unsupported version"
    assert f[10] == 1, "unknown KDF"
    m, t, p = struct.unpack(">III", f[11:23])
    assert 65536 <= m <= 1048576 and 3 <= t <= 64 and 1 <= p <= 16
    s = f[23]
    salt = f[24:24 + s]
    at = 24 + s
    station_len = struct.unpack(">H", f[at:at + 2])[0]
    at += 2 + station_len + 8
    current = f[at:at + 16]
    at += 16
    n = struct.unpack(">H", f[at:at + 2])[0]
    at += 2
    assert len(f) == at + 12 + 48 * n + 16, "wrong length"
    kek = Argon2id(salt=salt, length=32, iterations=t, lanes=p, memory_cost=m).derive(
        passphrase.encode("utf-8"))
    plain = AESGCM(kek).decrypt(f[at:at + 12], f[at + 12:], f[:at])
    keys = {}
    for i in range(0, 48 * n, 48):
        kid, key = plain[i:i + 16], plain[i + 16:i + 48]
        assert key_id(key) == kid, "key id mismatch"
        keys[kid] = key
    assert current in keys
    return keys


def open_backup(b: bytes, keys: dict):
    assert b[:8] == b"SRBACKUP", "not a backup"
    assert struct.unpack(">H", b[8:10])[0] == 1, "unsupported version"
    header_len = struct.unpack(">I", b[10:14])[0]
    kid = b[38:54]
    chunk_size = struct.unpack(">I", b[54:58])[0]
    compression = b[58]
    station_len = struct.unpack(">H", b[59:61])[0]
    assert header_len == 121 + station_len
    header = b[:header_len]
    wrap_nonce = b[61 + station_len:73 + station_len]
    data_key = AESGCM(keys[kid]).decrypt(wrap_nonce, b[73 + station_len:header_len],
                                         b[:61 + station_len])
    aead = AESGCM(data_key)
    pos, i, stored, trailer, content_chunks = header_len, 0, b"", b"", 0
    while True:
        flags = b[pos]
        sealed_len = struct.unpack(">I", b[pos + 1:pos + 5])[0]
        assert flags in (0, 2, 3) and 16 <= sealed_len <= chunk_size + 16
        nonce = struct.pack(">Q", i) + b"\0\0\0" + bytes([flags])
        chunk = aead.decrypt(nonce, b[pos + 5:pos + 5 + sealed_len], header)
        pos += 5 + sealed_len
        i += 1
        if flags == 0:
            assert not trailer
            stored += chunk
            content_chunks += 1
        else:
            trailer += chunk
        if flags == 3:
            break
    assert pos == len(b), "bytes after the end"
    t = json.loads(trailer)
    assert t["content_chunks"] == content_chunks and t["stored_len"] == len(stored)
    if compression == 1:
        content = subprocess.run(["zstd", "-q", "-dc"], input=stored, capture_output=True,
                                 check=True).stdout
    else:
        content = stored
    assert len(content) == t["plaintext_len"]
    assert hashlib.sha256(content).hexdigest() == t["plaintext_sha256"]
    return content, t["manifest"]


def main():
    rec, pass_file, backup, out = sys.argv[1:5]
    passphrase = open(pass_file, encoding="utf-8").read()
    keys = open_recovery(open(rec, "rb").read(), passphrase)
    content, manifest = open_backup(open(backup, "rb").read(), keys)
    with open(out, "wb") as f:
        f.write(content)
    print(json.dumps(manifest, sort_keys=True))


if __name__ == "__main__":
    main()
