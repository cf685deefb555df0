#pragma once
// The root image from ramfleet into a directory: one HTTP GET streamed
// through a RootWriter, with retries. Before any byte was written, connect
// errors, timeouts and 5xx answers are retried with backoff; a stream that
// breaks once unpacking has begun restarts from scratch into the wiped
// directory (a bounded number of times). Whatever fails, the directory is
// left empty: no half root survives a failure.
#include <functional>
#include <string>

#include "stage1/fetch_options.hpp"
#include "stage1/root_writer.hpp"

namespace ramfleet::stage1 {

// One line for the console, already prefixed by the caller.
using Say = std::function<void(const std::string&)>;

// true when the root is complete and verified; false after a failure
// (reported through `say`, the directory emptied).
bool fetch_root(const FetchOptions& options, const Say& say);

}  // namespace ramfleet::stage1
