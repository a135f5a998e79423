// CrlfToLf: turns the CR LF line ends of the spooled message (SMTP's form) into the LF of a
// Maildir file, one chunk at a time, however the chunks cut the text.
#pragma once

#include <string>
#include <string_view>

namespace tern::delivery {

class CrlfToLf {
  public:
    // Appends `chunk` to `out` with each CR LF written as LF; a CR not followed by LF is kept.
    // A CR that ends `chunk` is held back until the next call shows what follows it.
    void convert(std::string_view chunk, std::string& out);

    // Ends the text: appends the CR held back, if any (the text ended with a lone CR).
    void finish(std::string& out);

  private:
    bool held_cr_ = false;  // the previous chunk ended with a CR not yet written
};

}  // namespace tern::delivery
