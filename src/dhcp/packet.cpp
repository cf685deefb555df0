#include "dhcp/packet.hpp"

#include <algorithm>

namespace ramfleet::dhcp {

std::string_view name(ParseError e) {
  switch (e) {
    case ParseError::too_short:
      return "too_short";
    case ParseError::too_long:
      return "too_long";
    case ParseError::bad_op:
      return "bad_op";
    case ParseError::bad_hardware_length:
      return "bad_hardware_length";
    case ParseError::bad_magic_cookie:
      return "bad_magic_cookie";
    case ParseError::option_overrun:
      return "option_overrun";
    case ParseError::bad_message_type:
      return "bad_message_type";
    case ParseError::unknown_message_type:
      return "unknown_message_type";
    case ParseError::bad_overload:
      return "bad_overload";
  }
  return "unknown";
}

const Bytes* Packet::find(std::uint8_t code) const {
  for (const auto& o : options)
    if (o.code == code) return &o.data;
  return nullptr;
}

void Packet::set(std::uint8_t code, Bytes data) {
  for (auto& o : options) {
    if (o.code == code) {
      o.data = std::move(data);
      return;
    }
  }
  options.push_back(Option{code, std::move(data)});
}

void Packet::set_u32(std::uint8_t code, std::uint32_t v) {
  Bytes b;
  ByteWriter(b).u32(v);
  set(code, std::move(b));
}

void Packet::set_address(std::uint8_t code, Ipv4 a) { set_u32(code, a.value()); }

std::optional<MessageType> Packet::message_type() const {
  const Bytes* b = find(option::message_type);
  if (b == nullptr || b->size() != 1) return std::nullopt;
  return message_type_from((*b)[0]);
}

MacAddress Packet::mac() const {
  std::array<std::uint8_t, 6> o{};
  std::copy_n(chaddr.begin(), 6, o.begin());
  return MacAddress{o};
}

void Packet::set_mac(const MacAddress& m) {
  chaddr.fill(0);
  std::copy(m.octets().begin(), m.octets().end(), chaddr.begin());
}

namespace {

// Appends the options found in one area; joins repeated codes (RFC 3396).
bool read_options(ByteView area, std::vector<Option>& out) {
  ByteReader r(area);
  while (!r.empty()) {
    std::uint8_t code = *r.u8();
    if (code == option::pad) continue;
    if (code == option::end) return true;
    auto len = r.u8();
    if (!len) return false;
    auto data = r.take(*len);
    if (!data) return false;
    auto it = std::find_if(out.begin(), out.end(), [&](const Option& o) { return o.code == code; });
    if (it == out.end()) {
      out.push_back(Option{code, Bytes(data->begin(), data->end())});
    } else {
      it->data.insert(it->data.end(), data->begin(), data->end());
    }
  }
  return true;  // a missing end option is tolerated: some firmware pads without one
}

std::string fixed_text(ByteView field) {
  auto nul = std::find(field.begin(), field.end(), std::uint8_t{0});
  return std::string(field.begin(), nul);
}

void write_fixed_text(ByteWriter& w, std::string_view s, std::size_t width) {
  std::size_t n = std::min(s.size(), width);  // a full-width field has no NUL, as parse() reads it
  w.text(s.substr(0, n));
  w.zeros(width - n);
}

}  // namespace

ParseResult parse(ByteView wire) {
  if (wire.size() < kMinPacketSize) return ParseError::too_short;
  if (wire.size() > kMaxPacketSize) return ParseError::too_long;
  ByteReader r(wire);
  Packet p;
  p.op = *r.u8();
  if (p.op != 1 && p.op != 2) return ParseError::bad_op;
  p.htype = *r.u8();
  p.hlen = *r.u8();
  if (p.hlen > 16) return ParseError::bad_hardware_length;
  p.hops = *r.u8();
  p.xid = *r.u32();
  p.secs = *r.u16();
  p.flags = *r.u16();
  p.ciaddr = Ipv4{*r.u32()};
  p.yiaddr = Ipv4{*r.u32()};
  p.siaddr = Ipv4{*r.u32()};
  p.giaddr = Ipv4{*r.u32()};
  auto ch = *r.take(16);
  std::copy(ch.begin(), ch.end(), p.chaddr.begin());
  ByteView sname = *r.take(64);
  ByteView file = *r.take(128);
  if (*r.u32() != kMagicCookie) return ParseError::bad_magic_cookie;
  if (!read_options(r.rest(), p.options)) return ParseError::option_overrun;

  std::uint8_t overload = 0;
  if (const Bytes* o = p.find(option::overload)) {
    if (o->size() != 1 || (*o)[0] < 1 || (*o)[0] > 3) return ParseError::bad_overload;
    overload = (*o)[0];
  }
  // RFC 2131 4.1: with overload, the file field is read first, then sname.
  if (overload & 1) {
    if (!read_options(file, p.options)) return ParseError::option_overrun;
  } else {
    p.file = fixed_text(file);
  }
  if (overload & 2) {
    if (!read_options(sname, p.options)) return ParseError::option_overrun;
  } else {
    p.sname = fixed_text(sname);
  }

  if (const Bytes* t = p.find(option::message_type)) {
    if (t->size() != 1) return ParseError::bad_message_type;
    if (!message_type_from((*t)[0])) return ParseError::unknown_message_type;
  }
  return p;
}

Bytes serialize(const Packet& p, std::size_t min_size) {
  Bytes out;
  out.reserve(std::max<std::size_t>(min_size, 548));
  ByteWriter w(out);
  w.u8(p.op);
  w.u8(p.htype);
  w.u8(p.hlen);
  w.u8(p.hops);
  w.u32(p.xid);
  w.u16(p.secs);
  w.u16(p.flags);
  w.u32(p.ciaddr.value());
  w.u32(p.yiaddr.value());
  w.u32(p.siaddr.value());
  w.u32(p.giaddr.value());
  w.bytes(p.chaddr);
  write_fixed_text(w, p.sname, 64);
  write_fixed_text(w, p.file, 128);
  w.u32(kMagicCookie);
  for (const auto& o : p.options) {
    if (o.code == option::pad || o.code == option::end) continue;
    std::size_t done = 0;
    do {  // an empty option is still written once; longer ones split (RFC 3396)
      std::size_t n = std::min<std::size_t>(255, o.data.size() - done);
      w.u8(o.code);
      w.u8(static_cast<std::uint8_t>(n));
      w.bytes(ByteView(o.data).subspan(done, n));
      done += n;
    } while (done < o.data.size());
  }
  w.u8(option::end);
  if (out.size() < min_size) w.zeros(min_size - out.size());
  return out;
}

std::optional<std::vector<Option>> parse_suboptions(ByteView data) {
  std::vector<Option> subs;
  ByteReader r(data);
  while (!r.empty()) {
    std::uint8_t code = *r.u8();
    if (code == option::pad) continue;
    if (code == option::end) break;
    auto len = r.u8();
    if (!len) return std::nullopt;
    auto v = r.take(*len);
    if (!v) return std::nullopt;
    subs.push_back(Option{code, Bytes(v->begin(), v->end())});
  }
  return subs;
}

Bytes encode_suboptions(const std::vector<Option>& subs) {
  Bytes out;
  ByteWriter w(out);
  for (const auto& s : subs) {
    w.u8(s.code);
    w.u8(static_cast<std::uint8_t>(std::min<std::size_t>(s.data.size(), 255)));
    w.bytes(ByteView(s.data).first(std::min<std::size_t>(s.data.size(), 255)));
  }
  return out;
}

}  // namespace ramfleet::dhcp
