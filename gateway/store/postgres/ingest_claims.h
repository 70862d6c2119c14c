// The horizon that keeps readers tailing the event log by id (drift watch, rollout quality gate,
// live feed) from skipping a batch. Several gateways COPY at once and draw ids from one sequence,
// so batches commit out of id order: a reader that moved its cursor past a batch committed with
// higher ids would never see one committed later with lower ids.
//
// Each writer, before its batch takes ids, publishes a claim (migration 12's UNLOGGED table
// ingest_claims) in an autocommit statement of its own: low_id = the sequence's last_value, read
// in that statement, so every id the batch takes is above it (the sequence has CACHE 1: no
// backend holds ids taken earlier). The batch deletes its claim in its own transaction, so the
// claim goes away exactly when the events appear. Readers never read past MIN(low_id) in the same
// statement (one snapshot) as the events. Why no id is skipped: say a reader's snapshot misses a
// batch T (it commits later) holding id y, and the reader returns ids up to h >= y. h is an id
// committed before the snapshot, or a claim's low_id (>= y, so read after y was taken) committed
// before it; either way something that happened after y was taken, hence after T's claim was
// committed, was visible, so T's claim was too; and its deletion is T's own, not yet visible. So
// the horizon is <= T's low_id < y: a contradiction. The horizon only rises: a new claim's low_id
// is at least every id taken before it, hence every id a reader returned.
//
// A claim of a backend that is gone (a SIGKILLed gateway; a failed batch whose clean-up could not
// run) is deleted by the next claim of any writer, at a gateway's start, and by a reader it holds
// back (pg_query.cpp, at most once a second per connection): its transaction is over by then (a
// backend leaves pg_stat_activity only after it ended its transaction), so the argument above
// holds for every statement that starts after the deletion. Readers never judge liveness inside
// the statement that reads events: pg_stat_activity is not read in the statement's snapshot, and a
// writer that committed and exited between the two would let the reader skip its batch. So a
// reader deletes dead claims in a statement of its own (kCleanDeadClaims) and then reads again.
#pragma once

namespace tinyedge::gateway::pg {

// The highest id readers may go to; NULL when no writer holds ids.
inline constexpr const char* kTailHorizon = "(SELECT MIN(low_id) FROM ingest_claims)";

// Deletes the claims of backends that are gone (a row this role cannot see the start of counts as
// alive: stopping early is safe, skipping is not), then publishes this backend's claim.
inline constexpr const char* kClaimIds =
    "WITH gone AS (DELETE FROM ingest_claims c WHERE c.pid <> pg_backend_pid() AND NOT EXISTS (SELECT 1 FROM "
    "pg_stat_activity a WHERE a.pid = c.pid AND (a.backend_start IS NULL OR a.backend_start = c.backend_start))) "
    "INSERT INTO ingest_claims(pid, backend_start, low_id) SELECT a.pid, a.backend_start, (SELECT CASE WHEN "
    "is_called THEN last_value ELSE last_value - 1 END FROM events_id_seq) FROM pg_stat_activity a WHERE a.pid = "
    "pg_backend_pid() ON CONFLICT (pid) DO UPDATE SET backend_start = excluded.backend_start, low_id = "
    "excluded.low_id";

// In the batch's transaction just before its commit, or on its own after a rollback.
inline constexpr const char* kReleaseClaim = "DELETE FROM ingest_claims WHERE pid = pg_backend_pid()";

// At a gateway's start: the claims of backends that are gone.
inline constexpr const char* kCleanDeadClaims =
    "DELETE FROM ingest_claims c WHERE c.pid <> pg_backend_pid() AND NOT EXISTS (SELECT 1 FROM pg_stat_activity a "
    "WHERE a.pid = c.pid AND (a.backend_start IS NULL OR a.backend_start = c.backend_start))";

}  // namespace tinyedge::gateway::pg
