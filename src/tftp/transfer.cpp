#include "tftp/transfer.hpp"

#include <utility>

namespace ramfleet::tftp {

std::string_view outcome_name(Outcome outcome) {
  switch (outcome) {
    case Outcome::completed:
      return "completed";
    case Outcome::timed_out:
      return "timed_out";
    case Outcome::aborted_by_client:
      return "aborted_by_client";
    case Outcome::protocol_error:
      return "protocol_error";
    case Outcome::read_error:
      return "read_error";
  }
  return "unknown";
}

Transfer::Transfer(const Request& request, std::uint64_t file_size, FileReader& reader, const Settings& settings,
                   Counters& counters)
    : mode_(request.mode),
      // netascii changes the size on the wire, so tsize is only reported for octet.
      negotiated_(negotiate(request.options, settings,
                            request.mode == Mode::octet ? std::optional<std::uint64_t>(file_size) : std::nullopt)),
      reader_(reader),
      max_retransmits_(settings.max_retransmits),
      counters_(counters),
      max_lifetime_(settings.max_transfer_time) {
  if (negotiated_.timeout_over_cap) counters_.inc("tftp.option.timeout_over_cap");
  if (mode_ == Mode::netascii) netascii_.emplace(reader_);
  slots_.resize(negotiated_.windowsize + std::size_t{1});
}

Actions Transfer::start(TimePoint now) {
  end_of_life_ = now + max_lifetime_;
  if (!negotiated_.accepted.empty()) {
    phase_ = Phase::oack_sent;
    control_packet_.clear();
    encode_oack(negotiated_.accepted, control_packet_);
    deadline_ = now + negotiated_.timeout;
    Actions actions;
    actions.send.emplace_back(control_packet_);
    actions.timer = next_wakeup();
    return actions;
  }
  phase_ = Phase::sending;
  return send_window(now, false);
}

bool Transfer::produce_block() {
  Bytes& packet = slots_[produced_ % slots_.size()];
  packet.resize(kDataHeaderSize + negotiated_.blksize);
  std::span<std::uint8_t> payload(packet.data() + kDataHeaderSize, negotiated_.blksize);
  std::optional<std::size_t> got;
  if (netascii_) {
    got = netascii_->fill(payload);
  } else {
    got = reader_.read_at(file_offset_, payload);
  }
  if (!got) return false;
  file_offset_ += *got;
  packet.resize(kDataHeaderSize + *got);
  packet[0] = 0;
  packet[1] = static_cast<std::uint8_t>(Opcode::data);
  packet[2] = static_cast<std::uint8_t>((produced_ >> 8) & 0xff);
  packet[3] = static_cast<std::uint8_t>(produced_ & 0xff);
  // A short block (possibly empty, when the size is a multiple of blksize) ends the transfer.
  if (*got < negotiated_.blksize) last_block_ = produced_;
  ++produced_;
  return true;
}

void Transfer::produce_ahead() {
  // The slot of block produced_ is free while fewer than slots_.size() blocks
  // are outstanding or ready; after a read error, nothing more is read.
  if (phase_ == Phase::finished || last_block_ || read_failed_ || produced_ - base_ >= slots_.size()) return;
  if (!produce_block()) read_failed_ = true;
}

Actions Transfer::send_window(TimePoint now, bool resend_outstanding) {
  Actions actions;
  if (resend_outstanding) {
    for (std::uint64_t b = base_; b < next_; ++b) {
      const Bytes& packet = slots_[b % slots_.size()];
      actions.send.emplace_back(packet);
      payload_bytes_sent_ += packet.size() - kDataHeaderSize;
    }
  }
  while (next_ - base_ < negotiated_.windowsize && !(last_block_ && next_ > *last_block_)) {
    if (next_ == produced_ && (read_failed_ || !produce_block())) {
      counters_.inc("tftp.transfer.read_error");
      return finish(Outcome::read_error, "error reading the file", error_packet(ErrorCode::not_defined, "read error"));
    }
    const Bytes& packet = slots_[next_ % slots_.size()];
    actions.send.emplace_back(packet);
    payload_bytes_sent_ += packet.size() - kDataHeaderSize;
    ++next_;
  }
  deadline_ = now + negotiated_.timeout;
  actions.timer = next_wakeup();
  return actions;
}

Actions Transfer::expire() {
  counters_.inc("tftp.transfer.lifetime_exceeded");
  return finish(Outcome::timed_out, "transfer exceeded max_transfer_time",
                error_packet(ErrorCode::not_defined, "transfer took too long"));
}

Actions Transfer::finish(Outcome outcome, std::string reason, std::optional<Bytes> last_packet) {
  phase_ = Phase::finished;
  Actions actions;
  if (last_packet) {
    control_packet_ = std::move(*last_packet);
    actions.send.emplace_back(control_packet_);
  }
  actions.finished = Finished{outcome, std::move(reason)};
  return actions;
}

Actions Transfer::on_packet(ByteView datagram, TimePoint now) {
  if (phase_ == Phase::finished) return {};
  if (now >= end_of_life_) return expire();
  auto parsed = parse_packet(datagram);
  if (auto* error = std::get_if<ParseError>(&parsed)) {
    // A corrupt datagram must not kill a healthy transfer: drop it, the timer covers us.
    counters_.inc("tftp.drop.malformed");
    counters_.inc("tftp.drop.malformed." + error->reason);
    return {};
  }
  auto& packet = std::get<Packet>(parsed);
  if (auto* ack = std::get_if<Ack>(&packet)) return handle_ack(ack->block, now);
  if (auto* error = std::get_if<Error>(&packet)) {
    counters_.inc("tftp.transfer.aborted_by_client");
    return finish(Outcome::aborted_by_client, std::string("client sent ERROR ") +
                                                  std::string(error_code_name(error->code)) + ": " + error->message);
  }
  // RRQ, WRQ, DATA or OACK on a read transfer's port: the client is confused; tell it and stop.
  counters_.inc("tftp.error.illegal_operation");
  return finish(Outcome::protocol_error, "unexpected packet type on a read transfer",
                error_packet(ErrorCode::illegal_operation, "only ACK and ERROR are expected during a read transfer"));
}

Actions Transfer::handle_ack(std::uint16_t wire_block, TimePoint now) {
  // Map the 16-bit number onto the blocks it can refer to: base_-1 (the last
  // acknowledged) up to next_-1 (the last sent). A window never spans more than
  // 65535 blocks, so the mapping is unique even across rollover.
  const std::uint64_t lowest = base_ - 1;
  const std::uint64_t offset = static_cast<std::uint16_t>(wire_block - static_cast<std::uint16_t>(lowest));
  if (phase_ == Phase::oack_sent) {
    if (wire_block != 0) {
      counters_.inc("tftp.ack.unexpected");
      return {};
    }
    phase_ = Phase::sending;
    retries_ = 0;
    return send_window(now, false);
  }
  if (lowest + offset >= next_) {
    // Not a block we sent (an old ACK from before a rollover, or garbage): ignore.
    counters_.inc("tftp.ack.out_of_window");
    return {};
  }
  if (offset == 0) {
    counters_.inc("tftp.ack.duplicate");
    if (negotiated_.windowsize > 1 && !early_resend_used_ && next_ > base_) {
      // With windows, a repeated ACK of the block before the window means the
      // client lost the window's start: resend once rather than wait for the timer.
      early_resend_used_ = true;
      ++retransmissions_;
      counters_.inc("tftp.retransmit.duplicate_ack");
      return send_window(now, true);
    }
    return {};
  }
  const std::uint64_t acked = lowest + offset;
  base_ = acked + 1;
  retries_ = 0;
  early_resend_used_ = false;
  if (last_block_ && acked == *last_block_) {
    counters_.inc("tftp.transfer.completed");
    return finish(Outcome::completed, "all blocks acknowledged");
  }
  // An ACK inside the window means the client saw a gap: resend what follows it.
  const bool gap = base_ < next_;
  if (gap) {
    ++retransmissions_;
    counters_.inc("tftp.retransmit.gap");
  }
  return send_window(now, gap);
}

Actions Transfer::on_timer(TimePoint now) {
  if (phase_ == Phase::finished) return {};
  if (now >= end_of_life_) return expire();
  if (now < deadline_) {
    Actions stale;
    stale.timer = next_wakeup();
    return stale;
  }
  if (retries_ >= max_retransmits_) {
    counters_.inc("tftp.transfer.timed_out");
    return finish(Outcome::timed_out,
                  "no acknowledgement after " + std::to_string(max_retransmits_) + " retransmissions");
  }
  ++retries_;
  ++retransmissions_;
  counters_.inc("tftp.retransmit.timeout");
  if (phase_ == Phase::oack_sent) {
    deadline_ = now + negotiated_.timeout;
    Actions actions;
    actions.send.emplace_back(control_packet_);
    actions.timer = next_wakeup();
    return actions;
  }
  return send_window(now, true);
}

}  // namespace ramfleet::tftp
