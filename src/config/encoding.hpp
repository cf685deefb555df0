#pragma once
// Byte encodings the outputs need: RFC 2397 data URLs (Ignition inline
// contents), base64 (cloud-config), deterministic gzip (apkovl, cloud-config),
// and SHA-256 (cache keys / ETags for the compiled output).
#include <optional>
#include <string>
#include <string_view>

namespace ramfleet::config {

std::string base64_encode(std::string_view data);
std::optional<std::string> base64_decode(std::string_view text);

// "data:,<percent-encoded>" or "data:;base64,<...>", whichever is shorter.
std::string data_url(std::string_view data);
// Decodes a data: URL (either form); nullopt if it is not one or is malformed.
std::optional<std::string> decode_data_url(std::string_view url);

// gzip with a fixed header (mtime 0, OS "Unix"), so equal input gives equal bytes on any platform.
std::string gzip_compress(std::string_view data);
std::optional<std::string> gzip_decompress(std::string_view data);

}  // namespace ramfleet::config
