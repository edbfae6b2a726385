#pragma once

// The vocabulary of atoms vigil's actors exchange. At most 10 characters from
// [0-9A-Za-z_]: CAF 0.17 silently maps any other character to a space.

#include <caf/atom.hpp>

#define VIGIL_ATOM(name, text)                                                                     \
  using name = caf::atom_constant<caf::atom(text)>;                                                \
  constexpr name name##_v = name{};

namespace vigil::atom {

VIGIL_ATOM(status, "status")         // report state for /status
VIGIL_ATOM(crash, "crash")           // fault injection: crash a named child
VIGIL_ATOM(restart, "restart")       // INTERNAL (supervisor): backoff elapsed, restart a child
VIGIL_ATOM(configure, "configure")   // apply new settings
VIGIL_ATOM(tick, "tick")             // INTERNAL: periodic timer
VIGIL_ATOM(ingest, "ingest")         // a batch of events for durable acceptance
VIGIL_ATOM(resume, "resume")         // INTERNAL: credit or data became available
VIGIL_ATOM(rescan, "rescan")         // INTERNAL: look for new files matching the globs
VIGIL_ATOM(query, "query")           // read from a store
VIGIL_ATOM(audit, "audit")           // record a control action in the audit log
VIGIL_ATOM(publish, "publish")       // hand records to a sink
VIGIL_ATOM(confirmed, "confirmed")   // INTERNAL: the sink confirmed records
VIGIL_ATOM(failed, "failed")         // INTERNAL: the sink failed
VIGIL_ATOM(subscribe, "subscribe")   // register for a live stream
VIGIL_ATOM(flush, "flush")           // persist state now
VIGIL_ATOM(shutdown, "shutdown")     // orderly stop requested
VIGIL_ATOM(add_child, "add_child")   // supervise one more child
VIGIL_ATOM(stop_child, "stop_child") // stop and forget a child
VIGIL_ATOM(append, "append")         // durably add records to a stream
VIGIL_ATOM(reject, "reject")         // a sink refused a record for good: dead-letter it
VIGIL_ATOM(answered, "answered")     // INTERNAL: an HTTP exchange completed
VIGIL_ATOM(unsubscribe, "unsubscr")  // leave a live stream
VIGIL_ATOM(restore, "restore")       // hand an actor state saved by a previous run
VIGIL_ATOM(enable, "enable")         // start a live stream (POST /control)
VIGIL_ATOM(disable, "disable")       // stop a live stream (POST /control)
VIGIL_ATOM(acknowledge, "ack")       // an operator saw an alert: no more reminders
VIGIL_ATOM(resolve, "resolve")       // an operator ends an alert
VIGIL_ATOM(silence, "silence")       // mute a rule's notifications for a while

} // namespace vigil::atom

#undef VIGIL_ATOM
