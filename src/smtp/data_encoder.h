// DataEncoder: turns message text into what is sent after DATA (RFC 5321 section 4.5.2):
// lines end in CRLF, a leading "." is doubled, and CRLF "." CRLF ends the data.
#pragma once

#include <string>
#include <string_view>

namespace tern::smtp {

class DataEncoder {
  public:
    // Appends the encoded form of `text` to `out`. A bare CR or LF in the text becomes CRLF,
    // so what we send can never carry a fake end-of-data to the next server.
    void encode(std::string_view text, std::string& out);

    // Appends the end of data: a CRLF if the text did not end with one, then ".\r\n".
    void finish(std::string& out);

  private:
    bool at_line_start_ = true;
    bool pending_cr_ = false;  // the last octet was a CR not yet known to start CRLF
};

}  // namespace tern::smtp
