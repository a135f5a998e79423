// LocalDirectory: the aliases file parser and the expansion of a local part into mailboxes and
// remote addresses. The aliases file is trusted configuration; local parts come from clients.
#include "delivery/local_directory.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <optional>
#include <set>

#include "base/text.h"
#include "smtp/address.h"

namespace tern::delivery {
namespace {

// Bounds of one expansion, so that a careless or hostile aliases file cannot make one RCPT
// cost unbounded time or memory. Exceeding either is reported as an alias loop.
constexpr std::size_t kMaxAliasDepth = 20;      // aliases nested inside one another
constexpr std::size_t kMaxAliasResults = 1000;  // mailboxes plus remote addresses

// The domain used to check a bare local name with the RFC 5321 mailbox grammar.
constexpr std::string_view kCheckDomain = "@localhost";

bool is_blank(char c) {
    return c == ' ' || c == '\t';
}

// Splits a target list on the commas that are outside quoted strings; items are trimmed.
std::vector<std::string_view> split_targets(std::string_view list) {
    std::vector<std::string_view> items;
    bool quoted = false;
    std::size_t start = 0;
    for (std::size_t i = 0; i < list.size(); ++i) {
        if (quoted && list[i] == '\\') {
            ++i;
        } else if (list[i] == '"') {
            quoted = !quoted;
        } else if (list[i] == ',' && !quoted) {
            items.push_back(trim_blanks(list.substr(start, i - start)));
            start = i + 1;
        }
    }
    items.push_back(trim_blanks(list.substr(start)));
    return items;
}

// The lower-case, unquoted form of a local name, or nothing when `name` is not a valid RFC 5321
// local part. Names holding '@' are refused so that a stored target is remote exactly when it
// holds an '@'.
std::optional<std::string> local_name(std::string_view name) {
    std::string as_address(name);
    as_address += kCheckDomain;
    auto mailbox = smtp::parse_mailbox(as_address, true);
    if (!mailbox) return std::nullopt;
    std::string unquoted = ascii_lower(mailbox->unquoted_local());
    if (unquoted.empty() || unquoted.find('@') != std::string::npos) return std::nullopt;
    return unquoted;
}

Result<std::string> read_file(const std::string& path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return std::unexpected(Error::from_errno(errno, "open " + path));
    std::string text;
    char buffer[8192];
    while (true) {
        ssize_t n = ::read(fd, buffer, sizeof buffer);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            Error error = Error::from_errno(errno, "read " + path);
            ::close(fd);
            return std::unexpected(std::move(error));
        }
        if (n == 0) break;
        text.append(buffer, static_cast<std::size_t>(n));
    }
    ::close(fd);
    return text;
}

// Reads the aliases file line by line. An entry is a "name: targets" line followed by any
// number of continuation lines (lines starting with whitespace).
class AliasesParser {
  public:
    AliasesParser(const std::string& file, const LocalDirectoryOptions& options,
                  std::map<std::string, std::vector<std::string>>& aliases)
        : file_(file), options_(options), aliases_(aliases) {}

    Result<void> parse(std::string_view text) {
        std::size_t line_number = 0;
        while (!text.empty()) {
            ++line_number;
            std::size_t end = text.find('\n');
            std::string_view line = text.substr(0, end);
            text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
            Result<void> done = parse_line(line, line_number);
            if (!done) return done;
        }
        return finish_entry();
    }

  private:
    Result<void> parse_line(std::string_view line, std::size_t line_number) {
        std::string_view content = trim_blanks(line);
        if (content.empty() || content.front() == '#') return {};
        if (is_blank(line.front())) {
            if (current_ == nullptr) {
                return error(line_number, "continuation line without an alias");
            }
            return add_targets(content, line_number);
        }
        Result<void> finished = finish_entry();
        if (!finished) return finished;

        std::size_t colon = content.find(':');
        if (colon == std::string_view::npos) return error(line_number, "missing ':'");
        std::string_view raw_name = trim_blanks(content.substr(0, colon));
        if (raw_name.empty()) return error(line_number, "empty alias name");
        std::optional<std::string> name = local_name(raw_name);
        if (!name) {
            return error(line_number, "invalid alias name \"" + std::string(raw_name) + "\"");
        }
        auto [it, inserted] = aliases_.try_emplace(*name);
        if (!inserted) {
            return error(line_number, "duplicate alias \"" + *name + "\" (first at line " +
                                          std::to_string(entry_lines_[*name]) + ")");
        }
        entry_lines_[*name] = line_number;
        current_ = &it->second;
        current_name_ = *name;
        current_line_ = line_number;
        return add_targets(trim_blanks(content.substr(colon + 1)), line_number);
    }

    // Adds the targets of one line. A comma at the end of a line is allowed only when a
    // continuation line follows, as in "staff: alice,\n  bob".
    Result<void> add_targets(std::string_view list, std::size_t line_number) {
        trailing_comma_line_ = 0;
        if (list.empty()) return {};
        std::vector<std::string_view> items = split_targets(list);
        for (std::size_t i = 0; i < items.size(); ++i) {
            if (items[i].empty()) {
                if (i > 0 && i + 1 == items.size()) {
                    trailing_comma_line_ = line_number;
                    continue;
                }
                return error(line_number, "empty target");
            }
            std::optional<std::string> target = normalize_target(items[i]);
            if (!target) {
                return error(line_number, "invalid target \"" + std::string(items[i]) + "\"");
            }
            current_->push_back(std::move(*target));
        }
        return {};
    }

    // A local target becomes its lower-case unquoted name; a remote one keeps its local part as
    // written, with the domain in lower case.
    std::optional<std::string> normalize_target(std::string_view target) const {
        // "|command" and "/file" are valid local parts; Tern delivers to neither.
        if (target.front() == '|' || target.front() == '/') return std::nullopt;
        if (target.find('@') == std::string_view::npos || target.front() == '"') {
            if (auto name = local_name(target)) return name;
        }
        auto mailbox = smtp::parse_mailbox(target, true);
        if (!mailbox) return std::nullopt;
        std::string domain = mailbox->domain_lower();
        if (is_local(domain)) return local_name(mailbox->local);
        return mailbox->local + "@" + domain;
    }

    bool is_local(std::string_view domain) const {
        std::string key = ascii_lower(domain);
        return std::binary_search(options_.domains.begin(), options_.domains.end(), key);
    }

    Result<void> finish_entry() {
        if (current_ == nullptr) return {};
        if (trailing_comma_line_ != 0) return error(trailing_comma_line_, "empty target");
        if (current_->empty()) {
            return error(current_line_, "alias \"" + current_name_ + "\" has no targets");
        }
        current_ = nullptr;
        return {};
    }

    std::unexpected<Error> error(std::size_t line_number, std::string what) const {
        return fail(ErrorCode::kInvalid, file_ + ":" + std::to_string(line_number) + ": " + what);
    }

    const std::string& file_;
    const LocalDirectoryOptions& options_;
    std::map<std::string, std::vector<std::string>>& aliases_;
    std::map<std::string, std::size_t> entry_lines_;  // alias name -> line that defined it
    std::vector<std::string>* current_ = nullptr;     // targets of the entry being read
    std::string current_name_;
    std::size_t current_line_ = 0;
    std::size_t trailing_comma_line_ = 0;  // line ending in ',', 0 when none is pending
};

// One resolution: walks the alias graph depth first, collecting mailboxes and remote
// addresses without duplicates.
class AliasExpansion {
  public:
    AliasExpansion(const LocalDirectoryOptions& options,
                   const std::map<std::string, std::vector<std::string>>& aliases)
        : options_(options), aliases_(aliases) {}

    // Expands local name `name` (lower case). `parent` is the alias whose target it is, if any.
    std::optional<ResolveError> expand(const std::string& name, const std::string* parent) {
        auto alias = find_alias(name);
        // sendmail semantics: an alias naming itself means the mailbox of that name.
        if (alias != aliases_.end() && (parent == nullptr || alias->first != *parent)) {
            const std::string& key = alias->first;
            if (done_.contains(key)) return std::nullopt;  // its results are already in
            if (std::find(stack_.begin(), stack_.end(), key) != stack_.end()) {
                return ResolveError::kAliasLoop;
            }
            if (stack_.size() == kMaxAliasDepth) return ResolveError::kAliasLoop;
            stack_.push_back(key);
            for (const std::string& target : alias->second) {
                std::optional<ResolveError> failed = target.find('@') == std::string::npos
                                                         ? expand(target, &key)
                                                         : add(result_.remote, target);
                if (failed) return failed;
            }
            stack_.pop_back();
            done_.insert(key);
            return std::nullopt;
        }
        std::optional<std::string> mailbox = find_mailbox(name);
        if (!mailbox) return ResolveError::kUnknownUser;
        return add(result_.mailboxes, *mailbox);
    }

    Resolution take() { return std::move(result_); }

  private:
    // The part of `name` before the recipient delimiter, or `name` when it has none or when
    // nothing precedes the delimiter ("+tag" stays as it is).
    std::string_view without_extension(std::string_view name) const {
        const std::string& delimiter = options_.recipient_delimiter;
        if (delimiter.empty()) return name;
        std::size_t at = name.find(delimiter);
        if (at == std::string_view::npos || at == 0) return name;
        return name.substr(0, at);
    }

    std::map<std::string, std::vector<std::string>>::const_iterator find_alias(
        std::string_view name) const {
        auto it = aliases_.find(std::string(name));
        if (it != aliases_.end()) return it;
        return aliases_.find(std::string(without_extension(name)));
    }

    bool user_exists(const std::string& name) const {
        if (std::binary_search(options_.users.begin(), options_.users.end(), name)) return true;
        return options_.account_exists && options_.account_exists(name);
    }

    std::optional<std::string> find_mailbox(std::string_view name) const {
        std::string full(name);
        if (user_exists(full)) return full;
        std::string base(without_extension(name));
        if (user_exists(base) || base == "postmaster") return base;
        return std::nullopt;
    }

    std::optional<ResolveError> add(std::vector<std::string>& list, const std::string& value) {
        if (!seen_.insert(value).second) return std::nullopt;
        list.push_back(value);
        if (result_.mailboxes.size() + result_.remote.size() > kMaxAliasResults) {
            return ResolveError::kAliasLoop;
        }
        return std::nullopt;
    }

    const LocalDirectoryOptions& options_;
    const std::map<std::string, std::vector<std::string>>& aliases_;
    Resolution result_;
    std::vector<std::string> stack_;  // aliases being expanded, outermost first
    std::set<std::string> done_;      // aliases fully expanded
    std::set<std::string> seen_;      // mailboxes and remote addresses already collected
};

void lower_and_sort(std::vector<std::string>& names) {
    for (std::string& name : names)
        name = ascii_lower(name);
    std::sort(names.begin(), names.end());
    names.erase(std::unique(names.begin(), names.end()), names.end());
}

}  // namespace

Result<std::shared_ptr<const LocalDirectory::Tables>> LocalDirectory::read(
    LocalDirectoryOptions options) {
    auto tables = std::make_shared<Tables>();
    tables->options = std::move(options);
    lower_and_sort(tables->options.domains);
    lower_and_sort(tables->options.users);
    const std::string& file = tables->options.aliases_file;
    if (file.empty()) return tables;

    Result<std::string> text = read_file(file);
    if (!text) return std::unexpected(std::move(text.error()));
    AliasesParser parser(file, tables->options, tables->aliases);
    Result<void> parsed = parser.parse(*text);
    if (!parsed) return std::unexpected(std::move(parsed.error()));
    return tables;
}

Result<LocalDirectory> LocalDirectory::load(LocalDirectoryOptions options) {
    auto tables = read(std::move(options));
    if (!tables) return std::unexpected(std::move(tables.error()));
    LocalDirectory directory;
    directory.shared_->current.store(std::move(*tables));
    return directory;
}

Result<void> LocalDirectory::reload(LocalDirectoryOptions options) {
    if (!options.account_exists) options.account_exists = tables().options.account_exists;
    auto fresh = read(std::move(options));
    if (!fresh) return std::unexpected(std::move(fresh.error()));
    shared_->current.store(std::move(*fresh));
    shared_->generation.fetch_add(1, std::memory_order_release);
    return {};
}

std::unique_ptr<LocalDirectory::Shared> LocalDirectory::make_shared_state() {
    static std::atomic<std::uint64_t> next_id{1};
    auto shared = std::make_unique<Shared>();
    shared->id = next_id.fetch_add(1, std::memory_order_relaxed);
    shared->current.store(std::make_shared<Tables>());
    return shared;
}

const LocalDirectory::Tables& LocalDirectory::tables() const {
    struct Copy {
        std::uint64_t id = 0;
        std::uint64_t generation = 0;
        std::shared_ptr<const Tables> tables;
    };
    thread_local Copy copy;
    std::uint64_t generation = shared_->generation.load(std::memory_order_acquire);
    if (copy.id != shared_->id || copy.generation != generation || !copy.tables) {
        copy.tables = shared_->current.load();
        copy.id = shared_->id;
        copy.generation = generation;
    }
    return *copy.tables;
}

LocalDirectory::Counts LocalDirectory::counts() const {
    const Tables& t = tables();
    return Counts{t.options.domains.size(), t.options.users.size(), t.aliases.size()};
}

std::string LocalDirectory::default_domain() const {
    const Tables& t = tables();
    return t.options.domains.empty() ? std::string("localhost")
                                     : ascii_lower(t.options.domains.front());
}

bool LocalDirectory::is_local_domain(std::string_view domain) const {
    const Tables& t = tables();
    return std::binary_search(t.options.domains.begin(), t.options.domains.end(),
                              ascii_lower(domain));
}

std::expected<Resolution, ResolveError> LocalDirectory::resolve(std::string_view local) const {
    // This thread's copy keeps the tables alive for the whole expansion, whatever reload() does
    // meanwhile: nothing here asks tables() again.
    const Tables& t = tables();
    AliasExpansion expansion(t.options, t.aliases);
    std::optional<ResolveError> failed = expansion.expand(ascii_lower(local), nullptr);
    if (failed) return std::unexpected(*failed);
    return expansion.take();
}

}  // namespace tern::delivery
