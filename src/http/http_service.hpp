#pragma once
// The HTTP boot service: a Beast server on the caller's io_context (single
// thread, one coroutine per connection), serving iPXE scripts from the
// inventory, assets with sendfile(2), and the JSON API. The inventory is
// polled for changes and swapped atomically; a broken edit is refused and the
// previous inventory keeps serving.
//
//   boost::asio::io_context io;
//   ramfleet::http::HttpService http(io, settings);
//   http.start();  // throws std::system_error naming what failed (bind, inventory, store)
//   io.run();
#include <cstdint>
#include <memory>

#include "http/settings.hpp"

namespace boost::asio {
class io_context;
}

namespace ramfleet {
class Counters;
}

namespace ramfleet::http {

class HttpService {
 public:
  HttpService(boost::asio::io_context& io, HttpSettings settings);
  ~HttpService();
  HttpService(const HttpService&) = delete;
  HttpService& operator=(const HttpService&) = delete;

  // Loads the inventory (errors: std::system_error listing file:line:col), opens
  // <state>/ramfleet.db, binds and starts accepting. Nothing runs until io.run().
  void start();
  // Stops accepting and flushes boot records; connections finish on their own.
  void stop();

  // The bound port (useful with port 0).
  [[nodiscard]] std::uint16_t port() const;
  [[nodiscard]] const Counters& counters() const;

  struct Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace ramfleet::http
