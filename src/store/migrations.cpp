#include "store/migrations.hpp"

namespace kith::store {

const std::vector<std::string>& state_migrations() {
  static const std::vector<std::string> MIGRATIONS = {
      // 1: transfers and a key/value table for session state.
      R"sql(
      CREATE TABLE transfers (
        id           TEXT PRIMARY KEY,        -- info-hash hex: v1 if the torrent has one, else v2
        name         TEXT NOT NULL,
        kind         TEXT NOT NULL,           -- 'share' (seeding local data) or 'get' (downloading)
        source       TEXT NOT NULL,           -- magnet link or .torrent path it was added from
        destination  TEXT NOT NULL,           -- folder the finished data is released into
        only_glob    TEXT NOT NULL DEFAULT '',-- selective download: only files matching this glob
        sequential   INTEGER NOT NULL DEFAULT 0,
        paused       INTEGER NOT NULL DEFAULT 0,
        released     INTEGER NOT NULL DEFAULT 0, -- 1 once the data was moved out of staging
        added_at     INTEGER NOT NULL,        -- unix seconds
        completed_at INTEGER,                 -- unix seconds, when released
        resume       BLOB                     -- libtorrent resume data (bencoded), saved periodically
      );
      CREATE TABLE kv (key TEXT PRIMARY KEY, value BLOB NOT NULL);
      )sql",
      // 2: safety. Files that can run code (JSON array of relative paths, flagged even when clean),
      // and the quarantine: one row per download that was held back, kept after release/delete as
      // history for reports.
      R"sql(
      ALTER TABLE transfers ADD COLUMN runnable TEXT NOT NULL DEFAULT '[]';
      -- publisher signature magnet parameters ("&x.kith.pk=..&x.kith.sig=.."), verified; '' unsigned
      ALTER TABLE transfers ADD COLUMN link_signature TEXT NOT NULL DEFAULT '';
      CREATE TABLE quarantine (
        id             TEXT PRIMARY KEY,   -- the transfer's id
        name           TEXT NOT NULL,
        source         TEXT NOT NULL,      -- link or .torrent it came from
        outcome        TEXT NOT NULL,      -- infected, incomplete, no_database, held_runnable, scanner_crashed
        signature      TEXT NOT NULL DEFAULT '',
        reason         TEXT NOT NULL,
        details        TEXT NOT NULL DEFAULT '{}', -- JSON: per-file findings from the scan
        peers          TEXT NOT NULL DEFAULT '[]', -- JSON: peers that sent data for it
        destination    TEXT NOT NULL,      -- where a release puts it
        quarantined_at INTEGER NOT NULL,
        state          TEXT NOT NULL DEFAULT 'held', -- held, released, deleted
        resolved_at    INTEGER
      );
      )sql",
      // 3: the local block list (safety): info-hashes and peer IDs the node refuses.
      R"sql(
      CREATE TABLE blocklist (
        kind     TEXT NOT NULL,           -- 'info_hash' or 'peer_id'
        value    TEXT NOT NULL,           -- normalised by safety (lower-case hex, or a peer-ID prefix)
        reason   TEXT NOT NULL DEFAULT '',
        added_at INTEGER NOT NULL,        -- unix seconds
        PRIMARY KEY (kind, value)
      );
      )sql",
      // 4: an explicit per-file selection (the web UI's checkboxes), replacing only_glob once made.
      R"sql(
      ALTER TABLE transfers ADD COLUMN wanted_files TEXT;  -- NULL: none; else comma-separated file indices
      )sql",
      // 5: contacts and messaging (issue 3). Keys are kith IDs; message and group ids 32 hex digits.
      R"sql(
      CREATE TABLE contacts (
        id         TEXT PRIMARY KEY,      -- the person's kith ID (user key)
        name       TEXT NOT NULL,
        state      TEXT NOT NULL,         -- outgoing (we asked), incoming (they asked), accepted, blocked
        note       TEXT NOT NULL DEFAULT '', -- the request's text
        addrs      TEXT NOT NULL DEFAULT '[]', -- JSON: static address hints (invite, `contacts addr`, Hello)
        added_at   INTEGER NOT NULL,      -- unix seconds
        last_seen  INTEGER                -- unix seconds of the last channel with them
      );
      CREATE TABLE groups (
        id         TEXT PRIMARY KEY,
        name       TEXT NOT NULL,
        creator    TEXT NOT NULL,         -- kith ID; relays members' messages
        members    TEXT NOT NULL,         -- JSON [{id, name}], creator included
        created_at INTEGER NOT NULL
      );
      CREATE TABLE messages (
        id           TEXT PRIMARY KEY,
        conversation TEXT NOT NULL,       -- the contact's kith ID, or "group:" + group id
        author       TEXT NOT NULL,       -- kith ID
        outgoing     INTEGER NOT NULL,
        seq          INTEGER NOT NULL,    -- the author's per-conversation counter
        sent_at      INTEGER NOT NULL,    -- author's clock, unix ms
        received_at  INTEGER NOT NULL,    -- our clock, unix ms (for outgoing: when written)
        text         TEXT NOT NULL,
        signed       BLOB NOT NULL,       -- the SignedMessage as the author signed it (resent/relayed as is)
        read_at      INTEGER              -- incoming: when shown to the user
      );
      CREATE INDEX messages_by_conversation ON messages (conversation, received_at);
      -- Delivery of each outgoing (or relayed) message to each recipient: the outbox is the rows with
      -- delivered_at NULL. Receipts fill delivered_at / read_at.
      CREATE TABLE deliveries (
        message_id   TEXT NOT NULL,
        recipient    TEXT NOT NULL,       -- kith ID
        queued_at    INTEGER NOT NULL,    -- unix ms, the resend order
        delivered_at INTEGER,
        read_at      INTEGER,
        PRIMARY KEY (message_id, recipient)
      );
      CREATE INDEX deliveries_outbox ON deliveries (recipient, delivered_at, queued_at);
      -- Read receipts not yet sent (the author was offline when we read).
      CREATE TABLE pending_receipts (
        message_id TEXT NOT NULL,
        recipient  TEXT NOT NULL,
        PRIMARY KEY (message_id, recipient)
      );
      CREATE VIRTUAL TABLE messages_text USING fts5 (text, content = 'messages', content_rowid = 'rowid');
      CREATE TRIGGER messages_text_insert AFTER INSERT ON messages BEGIN
        INSERT INTO messages_text (rowid, text) VALUES (new.rowid, new.text);
      END;
      CREATE TRIGGER messages_text_delete AFTER DELETE ON messages BEGIN
        INSERT INTO messages_text (messages_text, rowid, text) VALUES ('delete', old.rowid, old.text);
      END;
      )sql",
      // 6: files sent to and received from contacts (`kith send`): SSL torrents with a certificate per
      // side. Outgoing offers stay 'pending' (the outbox) until the recipient acknowledges them.
      R"sql(
      CREATE TABLE file_offers (
        id          TEXT PRIMARY KEY,     -- 32 hex digits, the offer's id
        direction   TEXT NOT NULL,        -- 'out' (we send) or 'in' (we receive)
        contact     TEXT NOT NULL,        -- kith ID of the other person
        transfer_id TEXT NOT NULL,        -- the SSL torrent's transfer id
        name        TEXT NOT NULL,
        size        INTEGER NOT NULL,
        cert        TEXT NOT NULL,        -- our certificate for the torrent (PEM), signed by its root
        key         TEXT NOT NULL,        -- its private key (PEM)
        peers       TEXT NOT NULL DEFAULT '[]', -- in: JSON array, where the sender accepts SSL peers
        offer       BLOB,                 -- out: the serialized FileOffer, resent until acknowledged
        state       TEXT NOT NULL,        -- out: pending, delivered, refused; in: accepted
        reason      TEXT NOT NULL DEFAULT '', -- why it was refused
        created_at  INTEGER NOT NULL      -- unix seconds
      );
      CREATE INDEX file_offers_by_transfer ON file_offers (transfer_id);
      CREATE INDEX file_offers_outbox ON file_offers (contact, state);
      )sql",
      // 7: an offer is "delivered" only once the recipient released it (issue 11). States now: out:
      // pending, offered (acknowledged), transferring, scanning, delivered, quarantined, refused; in:
      // accepted, transferring, scanning, delivered, quarantined. `done`: bytes the recipient has.
      // Offers acknowledged under the old meaning of 'delivered' become 'offered': nobody knows more.
      R"sql(
      ALTER TABLE file_offers ADD COLUMN done INTEGER NOT NULL DEFAULT 0;
      UPDATE file_offers SET state = 'offered' WHERE direction = 'out' AND state = 'delivered';
      )sql",
      // 8: a contact's doorbell secret from their invite (base32, or ''): ring them on the DHT when they
      // cannot be dialled (issue 11, docs/protocol/channel.md § Doorbell).
      R"sql(
      ALTER TABLE contacts ADD COLUMN bell TEXT NOT NULL DEFAULT '';
      )sql",
      // 9: call history (issue 12): each call as it ended; the newest 1000 are kept (store/call_store).
      R"sql(
      CREATE TABLE calls (
        id           TEXT PRIMARY KEY,    -- 32 hex digits
        contact_id   TEXT NOT NULL,       -- kith ID
        contact_name TEXT NOT NULL,
        direction    TEXT NOT NULL,       -- outgoing | incoming
        video        INTEGER NOT NULL,
        room         TEXT NOT NULL DEFAULT '', -- a group call's room, 32 hex digits
        link         INTEGER NOT NULL DEFAULT 0,
        started_ms   INTEGER NOT NULL,    -- unix milliseconds; 0: never
        answered_ms  INTEGER NOT NULL,
        connected_ms INTEGER NOT NULL,
        ended_ms     INTEGER NOT NULL,
        end_reason   TEXT NOT NULL,
        replaced_by  TEXT NOT NULL DEFAULT ''
      );
      CREATE INDEX calls_by_end ON calls (ended_ms);
      )sql",
      // 10: folder sync (Syncthing's BEP v1; store/sync_store.hpp). Folders and devices have a small
      // integer key that the big tables use instead of their ids; device 0 is this node. uint64 values
      // (index IDs, short IDs, inodes) are stored bit for bit as INTEGER.
      R"sql(
      CREATE TABLE sync_folders (
        key        INTEGER PRIMARY KEY,
        id         TEXT NOT NULL UNIQUE,  -- the folder ID every device of the folder uses
        label      TEXT NOT NULL,
        path       TEXT NOT NULL,
        type       TEXT NOT NULL,         -- sendreceive | sendonly | receiveonly
        paused     INTEGER NOT NULL,
        index_id   INTEGER NOT NULL,      -- our index's ID: a new one tells peers to start over
        created_at INTEGER NOT NULL       -- unix seconds
      );
      CREATE TABLE sync_devices (
        key        INTEGER PRIMARY KEY,   -- never 0
        id         TEXT NOT NULL UNIQUE,  -- Syncthing's device ID text
        name       TEXT NOT NULL,
        addresses  TEXT NOT NULL,         -- one per line ('' when none)
        added_at   INTEGER NOT NULL
      );
      -- Which folder is shared with which device, and what the device last said of its index of it.
      CREATE TABLE sync_shares (
        folder              INTEGER NOT NULL,  -- sync_folders.key
        device              INTEGER NOT NULL,  -- sync_devices.key
        remote_index_id     INTEGER NOT NULL DEFAULT 0,
        remote_max_sequence INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (folder, device)
      ) WITHOUT ROWID;
      -- Each device's index of each folder, one row per file as BEP's FileInfo has it.
      CREATE TABLE sync_files (
        fid            INTEGER PRIMARY KEY,
        folder         INTEGER NOT NULL,  -- sync_folders.key
        device         INTEGER NOT NULL,  -- sync_devices.key, 0: this node
        name           TEXT NOT NULL,     -- relative, '/'-separated
        type           INTEGER NOT NULL,  -- 0 file, 1 directory, 4 symlink
        size           INTEGER NOT NULL,
        permissions    INTEGER NOT NULL,
        modified_s     INTEGER NOT NULL,
        modified_ns    INTEGER NOT NULL,
        modified_by    INTEGER NOT NULL,  -- short device ID
        deleted        INTEGER NOT NULL,
        invalid        INTEGER NOT NULL,
        no_permissions INTEGER NOT NULL,
        version        BLOB NOT NULL,     -- 16 bytes per counter: id, value (big-endian)
        sequence       INTEGER NOT NULL,
        block_size     INTEGER NOT NULL,
        blocks         BLOB NOT NULL,     -- 48 bytes per block: offset 8, size 4, weak hash 4, SHA-256 32
        symlink_target BLOB NOT NULL,
        inode          INTEGER NOT NULL,  -- this node's files only: part of "unchanged since the last scan"
        UNIQUE (folder, device, name)
      );
      CREATE INDEX sync_files_by_sequence ON sync_files (folder, device, sequence);
      -- Where this node has each block (its files that are neither deleted nor invalid), to copy a
      -- block from a local file instead of fetching it.
      CREATE TABLE sync_blocks (
        hash   BLOB NOT NULL,             -- SHA-256
        file   INTEGER NOT NULL,          -- sync_files.fid
        offset INTEGER NOT NULL,
        size   INTEGER NOT NULL,
        PRIMARY KEY (hash, file, offset)
      ) WITHOUT ROWID;
      )sql",
      // 11: a sync device learnt from a kith contact (their Hello on the contact channel): the
      // contact's kith ID, so removing or blocking the contact removes the device too.
      R"sql(
      ALTER TABLE sync_devices ADD COLUMN contact TEXT NOT NULL DEFAULT '';  -- kith ID, '' if added by hand
      )sql",
      // 12: what each sync folder keeps of files a pull replaces or deletes (sync/versioner.hpp).
      R"sql(
      ALTER TABLE sync_folders ADD COLUMN versioning TEXT NOT NULL DEFAULT 'none';
      ALTER TABLE sync_folders ADD COLUMN versioning_keep INTEGER NOT NULL DEFAULT 5;
      ALTER TABLE sync_folders ADD COLUMN versioning_max_age_days INTEGER NOT NULL DEFAULT 365;
      ALTER TABLE sync_folders ADD COLUMN versioning_cleanout_days INTEGER NOT NULL DEFAULT 0;
      )sql",
      // 13: block lists in a table of their own, so that listing an index (names, versions, sizes: what
      // pull planning, scans and views read at every round) never reads them — a 20 GiB file of 128 KiB
      // blocks has 7.5 MiB of them — and each entry's blocks hash (SyncStore's hasher; Syncthing's
      // blocks_hash), so identical content is recognised from that listing. Entries stored before have
      // it NULL until SyncStore::fill_blocks_hashes() computes it (the partial index finds them).
      R"sql(
      CREATE TABLE sync_file_blocks (
        fid    INTEGER PRIMARY KEY,  -- sync_files.fid; no row: no blocks
        blocks BLOB NOT NULL         -- 48 bytes per block: offset 8, size 4, weak hash 4, SHA-256 32
      );
      INSERT INTO sync_file_blocks (fid, blocks) SELECT fid, blocks FROM sync_files WHERE length(blocks) > 0;
      ALTER TABLE sync_files DROP COLUMN blocks;
      ALTER TABLE sync_files ADD COLUMN blocks_hash BLOB;  -- x'' when no blocks; NULL: not computed yet
      UPDATE sync_files SET blocks_hash = x'' WHERE fid NOT IN (SELECT fid FROM sync_file_blocks);
      CREATE INDEX sync_files_unhashed ON sync_files (fid) WHERE blocks_hash IS NULL;
      CREATE TRIGGER sync_files_blocks_go AFTER DELETE ON sync_files BEGIN
        DELETE FROM sync_file_blocks WHERE fid = old.fid;
      END;
      )sql",
  };
  return MIGRATIONS;
}

}  // namespace kith::store
