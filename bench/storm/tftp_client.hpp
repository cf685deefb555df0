#pragma once
// A PXE ROM's TFTP read (RFC 1350, options RFC 2347/2348/2349) from the
// machine's leased address: RRQ, OACK or DATA from the server's new port,
// an ACK per block, lost packets retransmitted on a timeout like firmware
// does, every wait bounded. Packets go through the project's codec (src/tftp).
#include <boost/asio/awaitable.hpp>
#include <optional>
#include <string>

#include "storm.hpp"

namespace storm {

struct TftpFetch {
  std::string server;  // dotted address
  std::string file;
  int blksize = 0;  // 0: ask for no options (plain 512-byte blocks)
};

// The bytes received, or nullopt with why.
boost::asio::awaitable<std::optional<std::uint64_t>> tftp_fetch(Storm& storm, Machine& m, const std::string& source,
                                                                const TftpFetch& f, std::string& why);

}  // namespace storm
