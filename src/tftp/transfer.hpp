#pragma once
// One read transfer as a sans-IO state machine. The socket layer feeds it
// events (a datagram from the client's endpoint, the retransmission timer
// firing) and carries out the Actions it returns (send these packets, arm the
// timer, release the transfer). File bytes come from a FileReader.
//
// Windows follow RFC 7440: up to `windowsize` DATA packets are sent, then the
// transfer waits for an ACK. An ACK of the window's last block opens the next
// window; an ACK of an earlier block (the client saw a gap) resends from the
// block after it. A duplicate ACK of the block before the window is ignored
// when windowsize is 1, which is what prevents the Sorcerer's Apprentice
// syndrome; with larger windows it triggers at most one early resend per
// window. On timeout the whole outstanding window (or the OACK) is resent, up
// to Settings::max_retransmits times in a row, then the transfer gives up.
// Block numbers wrap from 65535 to 0, as most clients expect.
// Whatever the client does (a slow ACK every few seconds keeps the retransmit
// budget full), the transfer ends Settings::max_transfer_time after start():
// every resource a client can make us hold is bounded in time too.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/bytes.hpp"
#include "core/counters.hpp"
#include "tftp/file_reader.hpp"
#include "tftp/netascii.hpp"
#include "tftp/options.hpp"
#include "tftp/packet.hpp"
#include "tftp/settings.hpp"

namespace ramfleet::tftp {

using Clock = std::chrono::steady_clock;
using TimePoint = Clock::time_point;

enum class Outcome { completed, timed_out, aborted_by_client, protocol_error, read_error };
std::string_view outcome_name(Outcome outcome);

struct Finished {
  Outcome outcome = Outcome::completed;
  std::string reason;
};

struct Actions {
  // Packets to send to the client, in order. They point into the transfer's
  // buffers and stay valid until the next call into the transfer.
  std::vector<ByteView> send;
  // Arm (or re-arm) the retransmission timer to fire at this time.
  std::optional<TimePoint> timer;
  // Set once: the transfer is over and can be destroyed after sending `send`.
  std::optional<Finished> finished;
};

class Transfer {
 public:
  // file_size is the size of the file behind `reader` (reported by tsize in octet mode).
  Transfer(const Request& request, std::uint64_t file_size, FileReader& reader, const Settings& settings,
           Counters& counters);

  // Sends the OACK, or the first window when no option was accepted.
  Actions start(TimePoint now);
  // A datagram that arrived from the client's endpoint (other endpoints are the caller's business: ERROR 5).
  Actions on_packet(ByteView datagram, TimePoint now);
  // The timer armed by a previous Actions fired (stale expiries are ignored).
  Actions on_timer(TimePoint now);
  // Reads the block that the next ACK will release, if it is not read yet.
  // The socket layer calls this after sending the packets of the previous
  // Actions and before waiting: the file read then overlaps the client's turn
  // instead of delaying the reply to its ACK (in lock-step, every block's
  // round trip). A read error here is kept and reported when that block is due.
  void produce_ahead();

  [[nodiscard]] const Negotiated& negotiated() const { return negotiated_; }
  [[nodiscard]] bool finished() const { return phase_ == Phase::finished; }
  [[nodiscard]] std::uint64_t payload_bytes_sent() const { return payload_bytes_sent_; }
  [[nodiscard]] std::uint64_t blocks_acknowledged() const { return base_ - 1; }
  [[nodiscard]] std::uint64_t retransmissions() const { return retransmissions_; }

 private:
  enum class Phase { oack_sent, sending, finished };

  Actions send_window(TimePoint now, bool resend_outstanding);
  Actions finish(Outcome outcome, std::string reason, std::optional<Bytes> last_packet = std::nullopt);
  // Reads block produced_ into its slot; false on a read error.
  bool produce_block();
  Actions handle_ack(std::uint16_t wire_block, TimePoint now);
  // The timer to arm: the retransmission deadline, or the end of life if sooner.
  [[nodiscard]] TimePoint next_wakeup() const { return std::min(deadline_, end_of_life_); }
  Actions expire();

  Mode mode_;
  Negotiated negotiated_;
  FileReader& reader_;
  std::optional<NetasciiEncoder> netascii_;
  int max_retransmits_;
  Counters& counters_;

  Phase phase_ = Phase::sending;
  // Encoded DATA packets, block b lives in slots_[b % slots_.size()]: the
  // outstanding window [base_, next_) plus one block produced ahead.
  std::vector<Bytes> slots_;
  std::uint64_t base_ = 1;      // first unacknowledged block
  std::uint64_t next_ = 1;      // next block to send
  std::uint64_t produced_ = 1;  // next block to produce (blocks [next_, produced_) are ready, not sent)
  bool read_failed_ = false;    // produce_ahead could not read block produced_
  std::uint64_t file_offset_ = 0;
  std::optional<std::uint64_t> last_block_;  // set once the short (final) block is produced
  Bytes control_packet_;                     // the OACK or a final ERROR
  TimePoint deadline_{};
  std::chrono::seconds max_lifetime_;
  TimePoint end_of_life_ = TimePoint::max();  // set by start()
  int retries_ = 0;                           // consecutive timeouts without progress
  bool early_resend_used_ = false;
  std::uint64_t payload_bytes_sent_ = 0;
  std::uint64_t retransmissions_ = 0;
};

}  // namespace ramfleet::tftp
