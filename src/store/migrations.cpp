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
  };
  return MIGRATIONS;
}

}  // namespace kith::store
