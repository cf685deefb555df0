#include "dhcp/client_request.hpp"

namespace ramfleet::dhcp {

namespace {
std::optional<Ipv4> address_option(const Packet& p, std::uint8_t code) {
  const Bytes* b = p.find(code);
  if (b == nullptr || b->size() != 4) return std::nullopt;
  return Ipv4{*ByteReader(*b).u32()};
}
bool starts_with(const std::string& s, std::string_view prefix) { return s.rfind(prefix, 0) == 0; }
}  // namespace

std::vector<std::string> decode_user_classes(ByteView data) {
  std::vector<std::string> out;
  ByteReader r(data);
  bool rfc3004 = !data.empty();
  while (rfc3004 && !r.empty()) {
    auto len = r.u8();
    if (!len || *len == 0) {  // RFC 3004 instances are never empty
      rfc3004 = false;
      break;
    }
    auto v = r.take(*len);
    if (!v) {
      rfc3004 = false;
      break;
    }
    out.emplace_back(as_text(*v));
  }
  if (!rfc3004) {
    out.clear();
    if (!data.empty()) out.emplace_back(as_text(data));
  }
  return out;
}

std::optional<ClientRequest> decode_request(const Packet& p) {
  auto type = p.message_type();
  if (!type) return std::nullopt;
  ClientRequest c;
  c.type = *type;
  c.mac = p.mac();
  if (const Bytes* b = p.find(option::client_identifier)) c.client_id = *b;
  if (const Bytes* b = p.find(option::client_arch); b != nullptr && b->size() >= 2) c.arch = *ByteReader(*b).u16();
  if (const Bytes* b = p.find(option::vendor_class)) c.vendor_class = std::string(as_text(*b));
  if (const Bytes* b = p.find(option::user_class)) c.user_classes = decode_user_classes(*b);
  c.has_ipxe_options = p.find(option::ipxe_encapsulated) != nullptr;
  c.requested_address = address_option(p, option::requested_address);
  c.server_identifier = address_option(p, option::server_identifier);
  if (const Bytes* b = p.find(option::client_uuid); b != nullptr && b->size() == 17 && (*b)[0] == 0)
    c.uuid.assign(b->begin() + 1, b->end());
  if (const Bytes* b = p.find(option::max_message_size); b != nullptr && b->size() == 2)
    c.max_message_size = *ByteReader(*b).u16();
  if (const Bytes* b = p.find(option::parameter_request_list)) c.parameter_request_list = *b;
  return c;
}

bool ClientRequest::is_pxe() const { return starts_with(vendor_class, "PXEClient"); }
bool ClientRequest::is_http() const { return starts_with(vendor_class, "HTTPClient"); }
bool ClientRequest::is_ipxe() const {
  if (has_ipxe_options) return true;
  for (const auto& u : user_classes)
    if (u == "iPXE") return true;
  return false;
}

}  // namespace ramfleet::dhcp
