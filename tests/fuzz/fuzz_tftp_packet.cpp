// libFuzzer target: the TFTP codec, request classification, file-name
// normalisation and the transfer state machine, all fed arbitrary bytes.
// Invariants checked (a violation aborts): whatever parses re-encodes to
// something that parses the same; the state machine only ever emits packets
// that parse, DATA no bigger than the negotiated blksize, and nothing after it
// has finished; normalised names never contain "..", NUL or a leading '/'.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "core/counters.hpp"
#include "tftp/file_reader.hpp"
#include "tftp/packet.hpp"
#include "tftp/path_resolver.hpp"
#include "tftp/request.hpp"
#include "tftp/transfer.hpp"

using namespace ramfleet;
using namespace ramfleet::tftp;

namespace {

void check(bool ok) {
  if (!ok) std::abort();
}

class PatternReader final : public FileReader {
 public:
  explicit PatternReader(std::uint64_t size) : size_(size) {}
  std::optional<std::size_t> read_at(std::uint64_t offset, std::span<std::uint8_t> out) override {
    if (offset >= size_) return 0;
    std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(out.size(), size_ - offset));
    for (std::size_t i = 0; i < n; ++i) out[i] = static_cast<std::uint8_t>((offset + i) * 31 + 7);
    return n;
  }

 private:
  std::uint64_t size_;
};

void round_trip(ByteView data) {
  auto result = parse_packet(data);
  auto* packet = std::get_if<Packet>(&result);
  if (!packet) return;
  Bytes out;
  if (auto* r = std::get_if<Request>(packet)) {
    encode_request(*r, out);
    auto again = parse_packet(out);
    check(std::holds_alternative<Packet>(again));
    auto& r2 = std::get<Request>(std::get<Packet>(again));
    check(r2.filename == r->filename && r2.options == r->options && r2.write == r->write && r2.mode == r->mode);
  } else if (auto* a = std::get_if<Ack>(packet)) {
    encode_ack(a->block, out);
    check(std::get<Ack>(std::get<Packet>(parse_packet(out))).block == a->block);
  } else if (auto* o = std::get_if<OptionAck>(packet)) {
    encode_oack(o->options, out);
    check(std::get<OptionAck>(std::get<Packet>(parse_packet(out))).options == o->options);
  }
}

void normalise(ByteView data) {
  auto result = PathResolver::normalize(as_text(data));
  if (auto* path = std::get_if<std::filesystem::path>(&result)) {
    check(path->is_relative());
    for (const auto& part : *path) check(part != ".." && part.string().find('\0') == std::string::npos);
  }
}

void drive_transfer(ByteView data) {
  if (data.size() < 3) return;
  // First byte: file size class; then a request; then events, each prefixed by one length byte
  // (0 means "timer fires").
  const std::uint64_t sizes[] = {0, 1, 511, 512, 513, 4096, 100000};
  PatternReader reader(sizes[data[0] % 7]);
  Request request;
  request.filename = "f";
  std::size_t pos = 1;
  std::size_t request_len = data[pos++];
  if (pos + request_len <= data.size()) {
    auto parsed = parse_packet(data.subspan(pos, request_len));
    if (auto* p = std::get_if<Packet>(&parsed)) {
      if (auto* r = std::get_if<Request>(p); r && !r->write && r->mode != Mode::mail) request = *r;
    }
    pos += request_len;
  }
  Settings settings;
  settings.max_retransmits = 3;
  Counters counters;
  Transfer transfer(request, sizes[data[0] % 7], reader, settings, counters);
  TimePoint now{};
  bool finished = false;
  auto inspect = [&](const Actions& a) {
    check(!finished || (a.send.empty() && !a.finished));
    for (auto p : a.send) {
      auto parsed = parse_packet(p);
      check(std::holds_alternative<Packet>(parsed));
      if (auto* d = std::get_if<Data>(&std::get<Packet>(parsed))) {
        check(d->payload.size() <= transfer.negotiated().blksize);
      }
    }
    if (a.finished) finished = true;
  };
  inspect(transfer.start(now));
  while (pos < data.size()) {
    std::size_t len = data[pos++];
    if (len == 0) {
      now += std::chrono::seconds(300);
      inspect(transfer.on_timer(now));
      continue;
    }
    len = std::min(len, data.size() - pos);
    inspect(transfer.on_packet(data.subspan(pos, len), now));
    pos += len;
  }
  check(finished == transfer.finished());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* bytes, std::size_t size) {
  ByteView data(bytes, size);
  round_trip(data);
  Counters counters;
  (void)classify_request(data, counters);
  normalise(data);
  drive_transfer(data);
  return 0;
}
