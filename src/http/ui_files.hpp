#pragma once
// The dashboard's static files (the repository's ui/ folder), compiled into
// the binary by cmake/EmbedFiles.cmake: serving them needs no files on disk
// and no network. Paths are relative to ui/ ("index.html", "js/app.js").
#include <span>
#include <string_view>

namespace ramfleet::http {

struct EmbeddedFile {
  std::string_view path;
  std::string_view bytes;
};

std::span<const EmbeddedFile> ui_files();

}  // namespace ramfleet::http
