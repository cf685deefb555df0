#pragma once
// Bytes as hexadecimal text and back: digests, random tokens, identifiers,
// MAC octets, percent-escapes. One spelling everywhere: two digits per byte,
// lower-case unless a format asks for upper-case (RFC 3986 percent-encoding).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/bytes.hpp"

namespace ramfleet {

enum class HexCase { lower, upper };

// Appends the two digits of one byte to `out`.
void append_hex(std::string& out, std::uint8_t byte, HexCase letters = HexCase::lower);

// Two lower-case digits per byte: "00ff10".
std::string to_hex(ByteView bytes);
// The same for raw bytes held in a string (a digest, random bytes).
std::string to_hex(std::string_view bytes);

// The value of one hex digit (either case), or -1 when `c` is not one.
int hex_value(char c);

// Whether `text` is a SHA-256 digest as we spell it: 64 lower-case hex
// digits (image ids, chunk digests; an upper-case one names no image).
bool is_sha256_hex(std::string_view text);

// The bytes `text` spells (either case, no separators); nullopt for an odd
// length or any character that is not a hex digit.
std::optional<Bytes> from_hex(std::string_view text);

}  // namespace ramfleet
