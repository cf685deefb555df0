#pragma once
// Caps on what reading an image source may cost. An image archive is input
// from outside (a registry, a colleague's laptop): every size, count and
// length it claims is checked against these before it is trusted, so a
// crafted archive ends in an ImageError naming the archive and the entry,
// never in a hang, an overflow or an unbounded allocation. Each cap is a
// `ramfleet image build` flag (docs/images.md).
#include <cstdint>

namespace ramfleet::image {

struct ImageLimits {
  // Decoded (decompressed) bytes of one layer (--max-layer-size).
  std::uint64_t max_layer_bytes = std::uint64_t{4} << 30;
  // Decoded bytes of all layers together (--max-image-size).
  std::uint64_t max_total_bytes = std::uint64_t{8} << 30;
  // Members of one tar archive (the outer archive or one layer), and entries
  // of the image's file tree (--max-entries).
  std::uint64_t max_entries = 1'000'000;
  // Bytes of one path or link target, however it is stored (ustar, GNU long
  // name, pax record): Linux's PATH_MAX (--max-name-length).
  std::uint64_t max_name_bytes = 4096;
  // Bytes of one pax extended header or GNU long name/link member (--max-pax-size).
  std::uint64_t max_pax_bytes = std::uint64_t{1} << 20;
  // Bytes of an OCI index.json, image index or manifest, or a docker
  // manifest.json (--max-json-size). Registries cap manifests at 4 MiB.
  std::uint64_t max_json_bytes = std::uint64_t{4} << 20;
  // Layers of one image (--max-layers); Docker's own limit is 127.
  std::uint64_t max_layers = 128;
};

}  // namespace ramfleet::image
