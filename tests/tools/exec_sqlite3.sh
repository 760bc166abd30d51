#!/usr/bin/env bash
# Debian's sqlite3 CLI, unmodified, under myst (from the ext2 image of
# tests/rootfs/debian_python.sh): it creates a database on a writable mount
# (a host directory, --mount), fills it with 100 000 rows in one
# transaction, indexes, queries, updates and deletes; a second run opens
# the same file, switches it to WAL (the -shm file is shared memory) and
# goes on. The same binary run natively with the tree's own loader and
# libraries does the same in another directory: the outputs must be equal,
# and so must both databases (.dump) and their integrity checks.
source "$(dirname "$0")/lib.sh"
require timeout cmp awk
debian_tree rootfs
mkdir -p rootfs/test rootfs/data native-data myst-data

# The script: one CREATE, 100 000 INSERTs between BEGIN and COMMIT, queries.
{
    echo "PRAGMA journal_mode;"
    echo "CREATE TABLE items(id INTEGER PRIMARY KEY, name TEXT NOT NULL, value REAL, category INTEGER);"
    echo "BEGIN;"
    awk 'BEGIN { for (i = 1; i <= 100000; i++)
        printf "INSERT INTO items VALUES(%d, '\''item-%06d'\'', %d.25, %d);\n", i, i, (i * 7919) % 1000, i % 13 }'
    echo "COMMIT;"
    cat <<'SQL'
CREATE INDEX items_category ON items(category);
SELECT count(*), sum(id), total(value), min(name), max(name) FROM items;
SELECT category, count(*), total(value) FROM items GROUP BY category ORDER BY category;
SELECT id, name, value FROM items WHERE category = 7 ORDER BY value DESC, id LIMIT 5;
UPDATE items SET value = value * 2 WHERE id % 1000 = 0;
DELETE FROM items WHERE id > 99000;
SELECT count(*), total(value) FROM items;
PRAGMA integrity_check;
SQL
} >rootfs/test/fill.sql
cat >rootfs/test/wal.sql <<'SQL'
SELECT count(*) FROM items;
PRAGMA journal_mode=WAL;
BEGIN;
INSERT INTO items SELECT id + 200000, 'wal-' || name, value / 2, category FROM items WHERE id <= 5000;
COMMIT;
SELECT count(*), total(value), max(id) FROM items;
PRAGMA wal_checkpoint(TRUNCATE);
PRAGMA integrity_check;
SQL
"$MYST" mkext2 -q rootfs sqlite.ext2

# Natively: the tree's sqlite3 with the tree's loader and libraries only.
native_sqlite() {
    env -i "$PWD/rootfs/lib64/ld-linux-x86-64.so.2" --inhibit-cache \
        --library-path "$PWD/rootfs/lib/x86_64-linux-gnu:$PWD/rootfs/usr/lib/x86_64-linux-gnu" \
        "$PWD/rootfs/usr/bin/sqlite3" -bail "$@"
}
native_sqlite native-data/test.db ".read rootfs/test/fill.sql" >native.out 2>native.err &&
    native_sqlite native-data/test.db ".read rootfs/test/wal.sql" >>native.out 2>>native.err ||
    { echo "FAIL: sqlite3 fails natively"; cat native.err; exit 1; }
grep -qx 100000 <(sed -n 2p native.out | cut -d'|' -f1) ||
    { echo "FAIL: the native run did not count 100000 rows"; head native.out; exit 1; }

myst_sqlite() {
    timeout 300 "$MYST" exec-linux --memory-size 1g --mount "$PWD/myst-data=/data" sqlite.ext2 \
        /usr/bin/sqlite3 -bail "$@"
}
start=$EPOCHREALTIME
myst_sqlite /data/test.db ".read /test/fill.sql" >myst.out 2>myst.err && status=0 || status=$?
fill_seconds=$(awk "BEGIN {printf \"%.1f\", $EPOCHREALTIME - $start}")
if [ "$status" = 0 ]; then
    start=$EPOCHREALTIME
    myst_sqlite /data/test.db ".read /test/wal.sql" >>myst.out 2>>myst.err && status=0 || status=$?
    wal_seconds=$(awk "BEGIN {printf \"%.1f\", $EPOCHREALTIME - $start}")
fi
if [ "$status" = 0 ] && cmp -s native.out myst.out; then
    pass "sqlite3 under myst prints what it prints natively ($(wc -l <myst.out) lines; fill ${fill_seconds} s, WAL run ${wal_seconds} s)"
else
    fail "sqlite3 under myst (exit status $status, 124 is a timeout)"
    diff native.out myst.out | head -n 20
    cat myst.err
fi
check "sqlite3 under myst writes nothing to stderr" bash -c "! [ -s myst.err ]"

# The files themselves, read by the tree's sqlite3 natively.
native_sqlite native-data/test.db .dump >native.dump
native_sqlite myst-data/test.db .dump >myst.dump 2>&1 || true
if cmp -s native.dump myst.dump; then
    pass "the database written under myst dumps the same as the native one ($(wc -l <myst.dump) lines)"
else
    fail "the database written under myst differs from the native one"
    diff native.dump myst.dump | head -n 10
fi
integrity=$(native_sqlite myst-data/test.db "PRAGMA integrity_check" 2>&1 || true)
[ "$integrity" = ok ] && pass "integrity_check of the database written under myst: ok" ||
    fail "integrity_check of the database written under myst: $integrity"
finish
