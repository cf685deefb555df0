#include "tftp/transfer.hpp"

#include <gtest/gtest.h>

#include <deque>
#include <functional>

#include "tftp_test_support.hpp"

using namespace ramfleet;
using namespace ramfleet::tftp;
using namespace ramfleet::tftp::testing;
using namespace std::chrono_literals;

namespace {

struct Fixture {
  Fixture(Bytes file, Request request, Settings s = {})
      : settings(s), reader(std::move(file)), transfer(request, reader.data().size(), reader, settings, counters) {}
  Settings settings;
  Counters counters;
  MemoryReader reader;
  Transfer transfer;
  TimePoint now{};
};

std::vector<Packet> packets(const Actions& actions) {
  std::vector<Packet> out;
  for (auto p : actions.send) out.push_back(parsed(p));
  return out;
}

std::vector<std::uint16_t> data_blocks(const Actions& actions) {
  std::vector<std::uint16_t> out;
  for (const auto& p : packets(actions)) out.push_back(std::get<Data>(p).block);
  return out;
}

std::size_t payload_size(const Actions& actions, std::size_t i) {
  return std::get<Data>(parsed(actions.send.at(i))).payload.size();
}

// A well-behaved client following RFC 1350 and RFC 7440: accepts blocks in
// order, ACKs at the end of each window, at the final block, and once on the
// first out-of-order block after a gap. `drop` decides which server packets
// the network loses. Returns the reassembled file.
struct SimulatedClient {
  std::uint16_t windowsize = 1;
  std::uint16_t blksize = 512;
  // Calls produce_ahead() after each event, as the socket layer does.
  bool produce_ahead = true;
  std::function<bool(std::uint64_t nth_packet)> drop = [](std::uint64_t) { return false; };

  std::optional<Bytes> run(Transfer& transfer, TimePoint& now, int max_steps = 10'000'000) {
    Bytes received;
    std::uint64_t expected = 1;  // 64-bit: the wire number is expected & 0xffff
    std::uint16_t in_window = 0;
    bool gap_acked = false;
    std::uint64_t sent_count = 0;
    std::deque<Bytes> inbox;
    std::optional<TimePoint> timer;
    bool done = false;
    auto take = [&](const Actions& a) {
      for (auto p : a.send) {
        if (!drop(sent_count++)) inbox.emplace_back(p.begin(), p.end());
      }
      if (a.timer) timer = a.timer;
      if (a.finished) done = true;
      if (produce_ahead && !done) transfer.produce_ahead();
      return a.finished;
    };
    auto result = take(transfer.start(now));
    for (int step = 0; step < max_steps && !done; ++step) {
      if (inbox.empty()) {
        if (!timer) return std::nullopt;
        now = *timer;
        result = take(transfer.on_timer(now));
        continue;
      }
      Bytes packet = std::move(inbox.front());
      inbox.pop_front();
      auto p = parsed(packet);
      if (std::holds_alternative<OptionAck>(p)) {
        result = take(transfer.on_packet(ack(0), now));
        continue;
      }
      auto& d = std::get<Data>(p);
      if (d.block == static_cast<std::uint16_t>(expected)) {
        received.insert(received.end(), d.payload.begin(), d.payload.end());
        ++expected;
        ++in_window;
        gap_acked = false;
        bool last = d.payload.size() < blksize;
        if (last || in_window == windowsize) {
          in_window = 0;
          result = take(transfer.on_packet(ack(d.block), now));
        }
      } else if (!gap_acked && d.block != static_cast<std::uint16_t>(expected - 1)) {
        gap_acked = true;
        in_window = 0;
        result = take(transfer.on_packet(ack(static_cast<std::uint16_t>(expected - 1)), now));
      }
    }
    if (!result || result->outcome != Outcome::completed) {
      ADD_FAILURE() << "transfer did not complete: " << (result ? result->reason : std::string("still running"))
                    << " after " << received.size() << " bytes";
      return std::nullopt;
    }
    return received;
  }
};

}  // namespace

TEST(TftpTransfer, WithoutOptionsSendsData1AndFinishesOnShortBlock) {
  Fixture f(pattern(1000), read_request("f"));
  auto a = f.transfer.start(f.now);
  EXPECT_EQ(data_blocks(a), (std::vector<std::uint16_t>{1}));
  EXPECT_EQ(payload_size(a, 0), 512U);
  ASSERT_TRUE(a.timer);
  EXPECT_EQ(*a.timer, f.now + 1000ms);
  a = f.transfer.on_packet(ack(1), f.now);
  EXPECT_EQ(data_blocks(a), (std::vector<std::uint16_t>{2}));
  EXPECT_EQ(payload_size(a, 0), 488U);
  EXPECT_FALSE(a.finished);
  a = f.transfer.on_packet(ack(2), f.now);
  ASSERT_TRUE(a.finished);
  EXPECT_EQ(a.finished->outcome, Outcome::completed);
  EXPECT_TRUE(a.send.empty());
  EXPECT_EQ(f.counters.get("tftp.transfer.completed"), 1U);
}

TEST(TftpTransfer, SizeMultipleOfBlockEndsWithEmptyBlock) {
  Fixture f(pattern(1024), read_request("f"));
  f.transfer.start(f.now);
  f.transfer.on_packet(ack(1), f.now);
  auto a = f.transfer.on_packet(ack(2), f.now);
  EXPECT_EQ(data_blocks(a), (std::vector<std::uint16_t>{3}));
  EXPECT_EQ(payload_size(a, 0), 0U);
  EXPECT_TRUE(f.transfer.on_packet(ack(3), f.now).finished);
}

TEST(TftpTransfer, EmptyFileIsOneEmptyBlock) {
  Fixture f(Bytes{}, read_request("f"));
  auto a = f.transfer.start(f.now);
  EXPECT_EQ(data_blocks(a), (std::vector<std::uint16_t>{1}));
  EXPECT_EQ(payload_size(a, 0), 0U);
  EXPECT_EQ(f.transfer.on_packet(ack(1), f.now).finished->outcome, Outcome::completed);
}

TEST(TftpTransfer, OptionsGetOackThenDataAfterAck0) {
  Fixture f(pattern(5000), read_request("f", {{"tsize", "0"}, {"blksize", "1024"}, {"bogus", "1"}}));
  auto a = f.transfer.start(f.now);
  ASSERT_EQ(a.send.size(), 1U);
  auto oack = std::get<OptionAck>(parsed(a.send[0]));
  EXPECT_EQ(oack.options, (std::vector<Option>{{"tsize", "5000"}, {"blksize", "1024"}}));
  a = f.transfer.on_packet(ack(0), f.now);
  EXPECT_EQ(data_blocks(a), (std::vector<std::uint16_t>{1}));
  EXPECT_EQ(payload_size(a, 0), 1024U);
}

TEST(TftpTransfer, OackIsRetransmittedOnTimeout) {
  Fixture f(pattern(100), read_request("f", {{"blksize", "1024"}}));
  auto a = f.transfer.start(f.now);
  a = f.transfer.on_timer(*a.timer);
  ASSERT_EQ(a.send.size(), 1U);
  EXPECT_TRUE(std::holds_alternative<OptionAck>(parsed(a.send[0])));
}

TEST(TftpTransfer, ClientRefusingOackAbortsTransfer) {
  // PXE ROMs ask for tsize, then abort with ERROR 8 and ask again.
  Fixture f(pattern(100), read_request("f", {{"tsize", "0"}}));
  f.transfer.start(f.now);
  auto a = f.transfer.on_packet(error_packet(ErrorCode::option_refused, "tsize only"), f.now);
  ASSERT_TRUE(a.finished);
  EXPECT_EQ(a.finished->outcome, Outcome::aborted_by_client);
  EXPECT_TRUE(a.send.empty());
  EXPECT_TRUE(f.transfer.finished());
}

TEST(TftpTransfer, WindowSendsWindowsizeBlocksThenWaits) {
  Fixture f(pattern(512 * 10 + 7), read_request("f", {{"windowsize", "4"}}));
  f.transfer.start(f.now);
  auto a = f.transfer.on_packet(ack(0), f.now);
  EXPECT_EQ(data_blocks(a), (std::vector<std::uint16_t>{1, 2, 3, 4}));
  a = f.transfer.on_packet(ack(4), f.now);
  EXPECT_EQ(data_blocks(a), (std::vector<std::uint16_t>{5, 6, 7, 8}));
  a = f.transfer.on_packet(ack(8), f.now);
  EXPECT_EQ(data_blocks(a), (std::vector<std::uint16_t>{9, 10, 11}));
  EXPECT_EQ(payload_size(a, 2), 7U);
  EXPECT_EQ(f.transfer.on_packet(ack(11), f.now).finished->outcome, Outcome::completed);
}

TEST(TftpTransfer, AckInsideWindowResendsFromTheGap) {
  Fixture f(pattern(512 * 20), read_request("f", {{"windowsize", "4"}}));
  f.transfer.start(f.now);
  f.transfer.on_packet(ack(0), f.now);
  auto a = f.transfer.on_packet(ack(2), f.now);  // client lost block 3
  EXPECT_EQ(data_blocks(a), (std::vector<std::uint16_t>{3, 4, 5, 6}));
  EXPECT_EQ(f.counters.get("tftp.retransmit.gap"), 1U);
}

TEST(TftpTransfer, TimeoutResendsWholeWindow) {
  Fixture f(pattern(512 * 20), read_request("f", {{"windowsize", "4"}, {"timeout", "2"}}));
  f.transfer.start(f.now);
  auto a = f.transfer.on_packet(ack(0), f.now);
  ASSERT_EQ(*a.timer, f.now + 2s);
  auto early = f.transfer.on_timer(f.now + 1s);  // stale expiry: nothing to do yet
  EXPECT_TRUE(early.send.empty());
  EXPECT_EQ(*early.timer, f.now + 2s);
  a = f.transfer.on_timer(f.now + 2s);
  EXPECT_EQ(data_blocks(a), (std::vector<std::uint16_t>{1, 2, 3, 4}));
  EXPECT_EQ(*a.timer, f.now + 4s);
  EXPECT_EQ(f.transfer.retransmissions(), 1U);
}

TEST(TftpTransfer, DuplicateAckDoesNotTriggerResendWithWindowsize1) {
  // The Sorcerer's Apprentice: resending on every duplicate ACK doubles traffic forever.
  Fixture f(pattern(512 * 10), read_request("f"));
  f.transfer.start(f.now);
  auto a = f.transfer.on_packet(ack(1), f.now);
  EXPECT_EQ(data_blocks(a), (std::vector<std::uint16_t>{2}));
  for (int i = 0; i < 3; ++i) {
    a = f.transfer.on_packet(ack(1), f.now);
    EXPECT_TRUE(a.send.empty());
  }
  EXPECT_EQ(f.counters.get("tftp.ack.duplicate"), 3U);
  EXPECT_EQ(data_blocks(f.transfer.on_packet(ack(2), f.now)), (std::vector<std::uint16_t>{3}));
}

TEST(TftpTransfer, DuplicateAckWithWindowResendsAtMostOncePerWindow) {
  Fixture f(pattern(512 * 20), read_request("f", {{"windowsize", "4"}}));
  f.transfer.start(f.now);
  f.transfer.on_packet(ack(0), f.now);
  auto a = f.transfer.on_packet(ack(4), f.now);
  EXPECT_EQ(data_blocks(a), (std::vector<std::uint16_t>{5, 6, 7, 8}));
  a = f.transfer.on_packet(ack(4), f.now);
  EXPECT_EQ(data_blocks(a), (std::vector<std::uint16_t>{5, 6, 7, 8}));
  EXPECT_TRUE(f.transfer.on_packet(ack(4), f.now).send.empty());
  EXPECT_TRUE(f.transfer.on_packet(ack(4), f.now).send.empty());
}

TEST(TftpTransfer, AckForUnsentBlockIsIgnored) {
  Fixture f(pattern(512 * 10), read_request("f"));
  f.transfer.start(f.now);
  EXPECT_TRUE(f.transfer.on_packet(ack(7), f.now).send.empty());
  EXPECT_EQ(f.counters.get("tftp.ack.out_of_window"), 1U);
  EXPECT_FALSE(f.transfer.finished());
}

TEST(TftpTransfer, ClientThatStopsAckingIsAbandonedAfterMaxRetransmits) {
  Settings s;
  s.max_retransmits = 3;
  Fixture f(pattern(512 * 10), read_request("f"), s);
  auto a = f.transfer.start(f.now);
  int resends = 0;
  while (!a.finished) {
    ASSERT_TRUE(a.timer);
    a = f.transfer.on_timer(*a.timer);
    if (!a.finished) {
      EXPECT_EQ(data_blocks(a), (std::vector<std::uint16_t>{1}));
      ++resends;
    }
    ASSERT_LE(resends, 3);
  }
  EXPECT_EQ(resends, 3);
  EXPECT_EQ(a.finished->outcome, Outcome::timed_out);
  EXPECT_EQ(f.counters.get("tftp.transfer.timed_out"), 1U);
}

TEST(TftpTransfer, ProgressResetsTheRetransmitBudget) {
  Settings s;
  s.max_retransmits = 1;
  Fixture f(pattern(512 * 10), read_request("f"), s);
  auto a = f.transfer.start(f.now);
  for (std::uint16_t block = 1; block <= 5; ++block) {
    a = f.transfer.on_timer(*a.timer);  // one loss per block is within budget
    ASSERT_FALSE(a.finished);
    a = f.transfer.on_packet(ack(block), *a.timer);
    ASSERT_FALSE(a.finished);
  }
}

TEST(TftpTransfer, UnexpectedOpcodeGetsIllegalOperation) {
  Fixture f(pattern(5000), read_request("f"));
  f.transfer.start(f.now);
  Bytes data;
  encode_data(1, pattern(10), data);
  auto a = f.transfer.on_packet(data, f.now);
  ASSERT_TRUE(a.finished);
  EXPECT_EQ(a.finished->outcome, Outcome::protocol_error);
  ASSERT_EQ(a.send.size(), 1U);
  EXPECT_EQ(std::get<Error>(parsed(a.send[0])).code, ErrorCode::illegal_operation);
}

TEST(TftpTransfer, MalformedDatagramIsDroppedAndCounted) {
  Fixture f(pattern(5000), read_request("f"));
  f.transfer.start(f.now);
  EXPECT_TRUE(f.transfer.on_packet(Bytes{0}, f.now).send.empty());
  EXPECT_TRUE(f.transfer.on_packet(Bytes{0, 4, 0}, f.now).send.empty());
  EXPECT_EQ(f.counters.get("tftp.drop.malformed"), 2U);
  EXPECT_EQ(data_blocks(f.transfer.on_packet(ack(1), f.now)), (std::vector<std::uint16_t>{2}));
}

TEST(TftpTransfer, ReadErrorEndsWithErrorPacket) {
  Fixture f(pattern(5000), read_request("f"));
  f.reader.fail_from(1024);
  f.transfer.start(f.now);
  f.transfer.on_packet(ack(1), f.now);
  auto a = f.transfer.on_packet(ack(2), f.now);
  ASSERT_TRUE(a.finished);
  EXPECT_EQ(a.finished->outcome, Outcome::read_error);
  EXPECT_EQ(std::get<Error>(parsed(a.send.at(0))).code, ErrorCode::not_defined);
}

TEST(TftpTransfer, ProduceAheadReadsTheNextBlockBeforeItsAck) {
  // Lock-step: the reply to an ACK must not wait for a file read.
  Fixture f(pattern(512 * 3 + 5), read_request("f"));
  auto a = f.transfer.start(f.now);
  EXPECT_EQ(data_blocks(a), (std::vector<std::uint16_t>{1}));
  f.transfer.produce_ahead();
  const int reads = f.reader.reads();
  f.transfer.produce_ahead();  // one block ahead at most
  EXPECT_EQ(f.reader.reads(), reads);
  a = f.transfer.on_packet(ack(1), f.now);
  EXPECT_EQ(f.reader.reads(), reads) << "block 2 was read ahead";
  EXPECT_EQ(data_blocks(a), (std::vector<std::uint16_t>{2}));
  f.transfer.produce_ahead();
  a = f.transfer.on_packet(ack(2), f.now);
  EXPECT_EQ(data_blocks(a), (std::vector<std::uint16_t>{3}));
  f.transfer.produce_ahead();
  a = f.transfer.on_packet(ack(3), f.now);
  ASSERT_EQ(data_blocks(a), (std::vector<std::uint16_t>{4}));
  EXPECT_EQ(payload_size(a, 0), 5U);
  f.transfer.produce_ahead();  // past the last block: nothing to read
  EXPECT_EQ(f.transfer.on_packet(ack(4), f.now).finished->outcome, Outcome::completed);
}

TEST(TftpTransfer, ProduceAheadWithWindowKeepsOutstandingBlocksForResend) {
  // The block read ahead must not overwrite a block the client may still ask for again.
  Bytes file = pattern(512 * 10);
  Fixture f(file, read_request("f", {{"windowsize", "4"}}));
  f.transfer.start(f.now);
  f.transfer.produce_ahead();
  auto a = f.transfer.on_packet(ack(0), f.now);
  EXPECT_EQ(data_blocks(a), (std::vector<std::uint16_t>{1, 2, 3, 4}));
  f.transfer.produce_ahead();
  f.transfer.produce_ahead();
  a = f.transfer.on_timer(*a.timer);
  ASSERT_EQ(data_blocks(a), (std::vector<std::uint16_t>{1, 2, 3, 4}));
  for (std::size_t i = 0; i < 4; ++i) {
    auto payload = std::get<Data>(parsed(a.send[i])).payload;
    EXPECT_TRUE(std::equal(payload.begin(), payload.end(), file.begin() + static_cast<std::ptrdiff_t>(512 * i)));
  }
  a = f.transfer.on_packet(ack(4), f.now);
  EXPECT_EQ(data_blocks(a), (std::vector<std::uint16_t>{5, 6, 7, 8}));
  auto payload = std::get<Data>(parsed(a.send[0])).payload;
  EXPECT_TRUE(std::equal(payload.begin(), payload.end(), file.begin() + 512 * 4));
}

TEST(TftpTransfer, ReadErrorWhileProducingAheadIsReportedWhenTheBlockIsDue) {
  Fixture f(pattern(5000), read_request("f"));
  f.reader.fail_from(512);
  f.transfer.start(f.now);
  f.transfer.produce_ahead();  // block 2 fails to read; block 1 is still outstanding
  EXPECT_FALSE(f.transfer.finished());
  auto a = f.transfer.on_timer(f.now + 10s);  // the outstanding block is still resent (within max_transfer_time)
  EXPECT_EQ(data_blocks(a), (std::vector<std::uint16_t>{1}));
  a = f.transfer.on_packet(ack(1), f.now + 10s);
  ASSERT_TRUE(a.finished);
  EXPECT_EQ(a.finished->outcome, Outcome::read_error);
  EXPECT_EQ(std::get<Error>(parsed(a.send.at(0))).code, ErrorCode::not_defined);
  EXPECT_EQ(f.counters.get("tftp.transfer.read_error"), 1U);
}

TEST(TftpTransfer, NothingHappensAfterFinish) {
  Fixture f(pattern(10), read_request("f"));
  f.transfer.start(f.now);
  ASSERT_TRUE(f.transfer.on_packet(ack(1), f.now).finished);
  EXPECT_TRUE(f.transfer.on_packet(ack(1), f.now).send.empty());
  EXPECT_FALSE(f.transfer.on_timer(f.now + 1h).timer);
}

TEST(TftpTransfer, BlockNumbersRollOverPast65535) {
  // 70,000 blocks of 8 bytes: block 65536 goes out as 0, 65537 as 1, ...
  const std::size_t blocks = 70000;
  Bytes file = pattern(8 * blocks + 3);
  Fixture f(file, read_request("f", {{"blksize", "8"}}));
  SimulatedClient client;
  client.blksize = 8;
  std::vector<std::uint16_t> seen;
  auto received = client.run(f.transfer, f.now);
  ASSERT_TRUE(received);
  EXPECT_EQ(*received, file);
  EXPECT_EQ(f.transfer.blocks_acknowledged(), blocks + 1);
  EXPECT_EQ(f.transfer.retransmissions(), 0U);
}

TEST(TftpTransfer, RolloverWithWindowsAndLoss) {
  const std::size_t blocks = 66000;
  Bytes file = pattern(16 * blocks + 9, 777);
  Fixture f(file, read_request("f", {{"blksize", "16"}, {"windowsize", "16"}}));
  SimulatedClient client;
  client.blksize = 16;
  client.windowsize = 16;
  client.drop = [](std::uint64_t n) { return n % 997 == 5 || n % 1499 == 0; };
  auto received = client.run(f.transfer, f.now);
  ASSERT_TRUE(received);
  EXPECT_EQ(*received, file);
  EXPECT_GT(f.transfer.retransmissions(), 0U);
}

TEST(TftpTransfer, LossyNetworkStillDeliversExactBytes) {
  for (bool ahead : {true, false}) {
    for (std::uint16_t window : {1, 2, 7, 16}) {
      SCOPED_TRACE(ahead ? "with produce_ahead" : "without produce_ahead");
      Bytes file = pattern(1468 * 300 + 100, window);
      Settings s;
      s.max_retransmits = 50;
      Fixture f(file, read_request("f", {{"blksize", "1468"}, {"windowsize", std::to_string(window)}}), s);
      SimulatedClient client;
      client.blksize = 1468;
      client.windowsize = window;
      client.produce_ahead = ahead;
      // About 8% loss, pseudo-random (a periodic pattern can align with a window and lose the same block forever).
      client.drop = [state = std::uint32_t{2463534242U} + window](std::uint64_t) mutable {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        return state % 100 < 8;
      };
      auto received = client.run(f.transfer, f.now);
      ASSERT_TRUE(received) << "window " << window;
      EXPECT_EQ(*received, file) << "window " << window;
    }
  }
}

TEST(TftpTransfer, NetasciiTransferConvertsAndDoesNotReportTsize) {
  std::string text = "line one\nline two\r\nend\r";
  Fixture f(Bytes(text.begin(), text.end()), read_request("f", {{"tsize", "0"}, {"blksize", "8"}}, Mode::netascii));
  SimulatedClient client;
  client.blksize = 8;
  auto received = client.run(f.transfer, f.now);
  ASSERT_TRUE(received);
  std::string expected("line one\r\nline two\r\0\r\nend\r\0", 27);
  EXPECT_EQ(std::string(received->begin(), received->end()), expected);
}

TEST(TftpTransfer, Timeout255ThatNeverAcksIsAbandonedWithinTheCap) {
  // Before the cap this transfer held its slot 6 x 255 s.
  Fixture f(pattern(5000), read_request("f", {{"timeout", "255"}, {"blksize", "1024"}}));
  auto a = f.transfer.start(f.now);
  auto oack = std::get<OptionAck>(parsed(a.send.at(0)));
  EXPECT_EQ(oack.options, (std::vector<Option>{{"blksize", "1024"}}));  // timeout ignored, not echoed
  EXPECT_EQ(f.counters.get("tftp.option.timeout_over_cap"), 1U);
  auto now = f.now;
  while (!a.finished) {
    ASSERT_TRUE(a.timer);
    now = *a.timer;
    a = f.transfer.on_timer(now);
  }
  EXPECT_EQ(a.finished->outcome, Outcome::timed_out);
  const auto held = now - f.now;
  EXPECT_LE(held, (f.settings.max_retransmits + 1) * f.settings.retransmit_timeout);
}

TEST(TftpTransfer, EndsAtMaxTransferTimeWhateverTheClientDoes) {
  Settings s;
  s.max_transfer_time = std::chrono::seconds(10);
  // Tiny blocks, a big file, an ACK every 900 ms: the retransmit budget never runs out.
  Fixture f(pattern(1 << 20), read_request("f", {{"blksize", "8"}}), s);
  auto a = f.transfer.start(f.now);
  auto now = f.now;
  std::uint16_t block = 0;
  int acks = 0;
  while (!a.finished && acks < 1000) {
    now += 900ms;
    ASSERT_TRUE(a.timer);
    EXPECT_LE(*a.timer, f.now + 10s);  // the timer never reaches past the end of life
    a = f.transfer.on_packet(ack(block++), now);
    ++acks;
  }
  ASSERT_TRUE(a.finished);
  EXPECT_EQ(a.finished->outcome, Outcome::timed_out);
  EXPECT_EQ(a.finished->reason, "transfer exceeded max_transfer_time");
  EXPECT_GE(now, f.now + 10s);
  EXPECT_LT(now, f.now + 11s);
  ASSERT_EQ(a.send.size(), 1U);
  EXPECT_TRUE(std::holds_alternative<Error>(parsed(a.send[0])));
  EXPECT_EQ(f.counters.get("tftp.transfer.lifetime_exceeded"), 1U);
}

TEST(TftpTransfer, IdleTransferEndsAtMaxTransferTimeByTheTimer) {
  Settings s;
  s.max_transfer_time = std::chrono::seconds(3);
  s.max_retransmits = 100;
  Fixture f(pattern(5000), read_request("f"), s);
  auto a = f.transfer.start(f.now);
  auto now = f.now;
  int wakeups = 0;
  while (!a.finished && wakeups++ < 100) {
    now = *a.timer;
    a = f.transfer.on_timer(now);
  }
  ASSERT_TRUE(a.finished);
  EXPECT_EQ(now, f.now + 3s);
  EXPECT_EQ(a.finished->reason, "transfer exceeded max_transfer_time");
}
