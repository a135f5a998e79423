// A message handed over by a local program (`tern sendmail`), made ready to be dropped, as
// Postfix's sendmail and cleanup do for local submissions: line ends made CRLF, the input ended
// at a line of a lone "." unless told otherwise (-i), the recipients taken from the header with
// -t (To, Cc and Bcc; Resent-To, Resent-Cc and Resent-Bcc instead when there are Resent-
// fields), the Bcc fields removed, and a missing From, Date and Message-ID added.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

namespace tern::message {

struct LocalSubmissionOptions {
    bool dot_ends = true;             // a line of one "." ends the message (no -i)
    bool extract_recipients = false;  // -t
    std::string sender;               // the envelope sender, for a missing From ("" = none)
    std::string full_name;            // -F, for a missing From
    std::string hostname;             // the right part of a Message-ID made here
    std::chrono::system_clock::time_point now{};
};

struct LocalSubmission {
    std::string text;                     // CRLF line ends, with the fields added
    std::vector<std::string> recipients;  // from the header, with -t
    std::vector<std::string> invalid;     // pieces of those fields that are no address
};

LocalSubmission prepare_local_submission(std::string_view input,
                                         const LocalSubmissionOptions& options);

// A display name as an RFC 5322 phrase: as it is when it is all atoms and spaces, else quoted.
std::string display_name(std::string_view name);

}  // namespace tern::message
