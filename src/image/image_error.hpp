#pragma once
// Every failure of an image build (unreadable source, malformed archive,
// write error) is one of these, with a message that names the file and the
// problem.
#include <stdexcept>
#include <string>

namespace ramfleet::image {

class ImageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace ramfleet::image
