package dev.triage.records;

import java.text.Normalizer;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What a support tool should hold a draft reply for before a person reviews it: markup, links,
 * contact details that the ticket itself does not contain, code, a greeting of someone else. The
 * reply is model output that a ticket may have steered; these are heuristics (no flag does not mean
 * safe). The text is normalized first (NFKC, so fullwidth and other compatibility forms count as
 * what they look like; invisible format characters removed; lower case; "hxxp", "[.]" and "[at]"
 * spelled out). The work is bounded: at most {@link #MAX_CHECKED_CHARS} of the reply and {@link
 * #MAX_OWN_TEXT_CHARS} of the ticket are read, and every pattern is linear in them.
 *
 * <p>Over 300 lines because every check reads the same normalized reply and the ticket's word set,
 * built once per result; each check is its own method, and the scanning is hand-written to stay
 * linear (a regex split was the hot spot and a steered reply made it quadratic).
 */
public final class DraftReplyFlags {

    /** Tags ({@code <script>}, {@code </b>}, {@code <!-- -->}) or character entities. */
    public static final String HTML = "html";

    /** URLs with any scheme, {@code www.}, bare or internationalized domains, IP addresses. */
    public static final String LINKS = "links";

    /** E-mail addresses or phone numbers that do not appear in the ticket's own text. */
    public static final String CONTACT_DETAILS = "contact_details";

    /** Code fences or template expressions ({@code ```}, <code>{{</code>, <code>${</code>). */
    public static final String CODE = "code";

    /**
     * The reply greets someone by a name that is neither the customer's (profile) nor in the
     * ticket's text: written for another customer, or steered.
     */
    public static final String MENTIONS_OTHER_CUSTOMER = "mentions_other_customer";

    /** The reply is longer than what is checked: the rest was not looked at. */
    public static final String TOO_LONG = "too_long";

    public static final int MAX_CHECKED_CHARS = 20_000;
    public static final int MAX_OWN_TEXT_CHARS = 100_000;

    /** Longest token read as a URL, domain or address. */
    private static final int MAX_TOKEN_CHARS = 300;

    private static final Pattern TAG = Pattern.compile("<[a-z!?%]|<\\s{0,8}/\\s{0,8}[a-z]");
    private static final Pattern ENTITY =
            Pattern.compile("&(?:#[0-9]{1,7}|#x[0-9a-f]{1,6}|[a-z][a-z0-9]{1,31});");

    /** Schemes without "//" ("://" itself is looked for as it is). */
    private static final Pattern SCHEME =
            Pattern.compile(
                    "(?<![a-z])(?:javascript|vbscript|mailto|tel|sms)\\s{0,8}:"
                            + "|(?<![a-z])(?:data:[a-z]{1,20}/|file:/)");

    private static final Pattern CODE_PATTERN = Pattern.compile("```|~~~|\\{\\{|\\$\\{|\\{%");
    private static final Pattern OBFUSCATED_DOT =
            Pattern.compile("\\s{0,3}[\\[({]\\s{0,3}(?:dot|\\.)\\s{0,3}[\\])}]\\s{0,3}");
    private static final Pattern OBFUSCATED_AT =
            Pattern.compile("\\s{0,3}[\\[({]\\s{0,3}(?:at|@)\\s{0,3}[\\])}]\\s{0,3}");
    private static final Pattern DOMAIN =
            Pattern.compile(
                    "(?:[\\p{L}\\p{N}][\\p{L}\\p{N}-]{0,62}\\.)+([\\p{L}]{2,24}|xn--[a-z0-9-]{1,59})");
    private static final Pattern IP = Pattern.compile("\\d{1,3}(?:\\.\\d{1,3}){3}");
    private static final Pattern EMAIL =
            Pattern.compile(
                    "[\\p{L}\\p{N}._%+-]{1,64}@(?:[\\p{L}\\p{N}-]{1,63}\\.)+[\\p{L}]{2,24}");
    private static final Pattern PHONE =
            Pattern.compile("(?<![\\w+.,:/-])\\+?\\(?\\d[\\d ().-]{5,22}\\d(?![\\w-])");
    private static final Pattern DATE_OR_TIME =
            Pattern.compile("\\d{4}[-/.]\\d{1,2}[-/.]\\d{1,2}|\\d{1,2}[-/.]\\d{1,2}[-/.]\\d{2,4}");

    private static final Pattern GREETING =
            Pattern.compile(
                    "(?<![\\p{L}])(?i:dear|hi|hello|hey|good morning|good afternoon|good evening)"
                            + ",?[ \\t]{1,4}(\\p{Lu}[\\p{L}'\u2019-]{1,30})");
    private static final Set<String> NOT_NAMES =
            Set.of(
                    "there",
                    "team",
                    "customer",
                    "customers",
                    "sir",
                    "madam",
                    "all",
                    "again",
                    "everyone",
                    "friend",
                    "valued",
                    "support",
                    "user",
                    "client",
                    "colleague",
                    "colleagues",
                    "folks");

    /** Top-level domains that make a bare word.word a link; IDN and punycode ones always do. */
    private static final Set<String> TLDS =
            Set.of(
                    "com",
                    "net",
                    "org",
                    "edu",
                    "gov",
                    "mil",
                    "int",
                    "info",
                    "biz",
                    "name",
                    "pro",
                    "app",
                    "dev",
                    "io",
                    "ai",
                    "co",
                    "me",
                    "tv",
                    "cc",
                    "ly",
                    "gl",
                    "gg",
                    "ws",
                    "to",
                    "su",
                    "xyz",
                    "top",
                    "online",
                    "site",
                    "shop",
                    "store",
                    "club",
                    "live",
                    "link",
                    "click",
                    "help",
                    "support",
                    "services",
                    "email",
                    "page",
                    "blog",
                    "news",
                    "tech",
                    "cloud",
                    "space",
                    "website",
                    "world",
                    "today",
                    "vip",
                    "win",
                    "bid",
                    "loan",
                    "work",
                    "zip",
                    "mov",
                    "us",
                    "uk",
                    "de",
                    "fr",
                    "eu",
                    "ru",
                    "cn",
                    "jp",
                    "br",
                    "in",
                    "au",
                    "ca",
                    "nl",
                    "es",
                    "it",
                    "pl",
                    "ch",
                    "se",
                    "no",
                    "dk",
                    "fi",
                    "cz",
                    "pt",
                    "gr",
                    "ie",
                    "nz",
                    "za",
                    "mx",
                    "ar",
                    "kr",
                    "tw",
                    "hk",
                    "sg",
                    "id",
                    "th",
                    "vn",
                    "ua",
                    "tr",
                    "il",
                    "ir",
                    "be",
                    "at",
                    "la",
                    "pw",
                    "tk",
                    "ml",
                    "ga",
                    "cf",
                    "gq",
                    "nu",
                    "example",
                    "test",
                    "invalid",
                    "local",
                    "onion");

    private DraftReplyFlags() {}

    /**
     * The flags of a result's draft reply, against the ticket's own subject and body and the name
     * in its customer's profile.
     */
    public static List<String> forTicket(String draftReply, Ticket ticket) {
        if (ticket == null) {
            return of(draftReply, (String) null);
        }
        // Most replies need no own text (no address, no number, a greeting of a known word), so
        // it is put together only when a check asks for it.
        return of(draftReply, new OwnText(ticket));
    }

    /** The ticket's own subject, body and profile name, joined once, on first use. */
    private static final class OwnText implements Supplier<String> {
        private final Ticket ticket;
        private String text;

        OwnText(Ticket ticket) {
            this.ticket = ticket;
        }

        @Override
        public String get() {
            if (text == null) {
                StringBuilder own = new StringBuilder();
                own.append(ticket.subject() == null ? "" : ticket.subject()).append('\n');
                own.append(ticket.body() == null ? "" : ticket.body());
                CustomerContext c = ticket.customer();
                if (c != null && c.profile() != null && c.profile().name() != null) {
                    own.append('\n').append(c.profile().name());
                }
                text = own.toString();
            }
            return text;
        }
    }

    /** The flags of {@code draftReply}, in a fixed order; {@code ownText}: the ticket's text. */
    public static List<String> of(String draftReply, String ownText) {
        return of(draftReply, () -> ownText);
    }

    private static List<String> of(String draftReply, Supplier<String> ownText) {
        List<String> flags = new ArrayList<>(5);
        if (draftReply == null || draftReply.isEmpty()) {
            return flags;
        }
        boolean tooLong = draftReply.length() > MAX_CHECKED_CHARS;
        String cleaned = clean(draftReply, MAX_CHECKED_CHARS);
        String text = spelledOut(cleaned.toLowerCase(Locale.ROOT));
        // Each pattern runs only where its first character occurs: most replies are plain prose.
        boolean html =
                (text.indexOf('<') >= 0 && TAG.matcher(text).find())
                        || (text.indexOf('&') >= 0 && ENTITY.matcher(text).find());
        boolean links =
                text.contains("://") || (text.indexOf(':') >= 0 && SCHEME.matcher(text).find());
        Set<String> emails = new HashSet<>();
        for (String raw : candidateTokens(text)) {
            String token = trim(raw);
            if (token.isEmpty()) {
                continue;
            }
            if (token.length() > MAX_TOKEN_CHARS) {
                token = token.substring(0, MAX_TOKEN_CHARS);
            }
            int at = token.indexOf('@');
            if (at >= 0) {
                Matcher m = EMAIL.matcher(token);
                if (m.find()) {
                    emails.add(m.group());
                }
                continue;
            }
            // Only a token with a dot can name a host (a domain, an IP, www.).
            links = links || (token.indexOf('.') >= 0 && isLink(token));
        }
        boolean contact = false;
        Set<String> phones = hasDigit(text) ? phones(text) : Set.of();
        if (!emails.isEmpty() || !phones.isEmpty()) {
            String own = normalize(orEmpty(ownText.get()), MAX_OWN_TEXT_CHARS);
            Set<String> ownPhones = phones(own);
            for (String e : emails) {
                contact = contact || !own.contains(e);
            }
            for (String p : phones) {
                contact = contact || !ownPhones.contains(p);
            }
        }
        boolean code =
                (text.indexOf('`') >= 0 || text.indexOf('~') >= 0 || text.indexOf('{') >= 0)
                        && CODE_PATTERN.matcher(text).find();
        boolean other = mentionsOther(cleaned, ownText);
        add(flags, html, HTML);
        add(flags, links, LINKS);
        add(flags, contact, CONTACT_DETAILS);
        add(flags, code, CODE);
        add(flags, other, MENTIONS_OTHER_CUSTOMER);
        add(flags, tooLong, TOO_LONG);
        return flags;
    }

    /** A greeted name ("Dear Ada") that is not a word of the ticket's own text. */
    private static boolean mentionsOther(String cleanedReply, Supplier<String> ownText) {
        Matcher m = GREETING.matcher(cleanedReply);
        Set<String> ownWords = null;
        while (m.find()) {
            String name = m.group(1).toLowerCase(Locale.ROOT);
            if (NOT_NAMES.contains(name)) {
                continue;
            }
            if (ownWords == null) {
                // Once per result, in one pass: a search per greeting would cost the length of
                // the ticket for each of thousands of greetings.
                ownWords =
                        words(
                                clean(orEmpty(ownText.get()), MAX_OWN_TEXT_CHARS)
                                        .toLowerCase(Locale.ROOT));
            }
            if (!ownWords.contains(name)) {
                return true;
            }
        }
        return false;
    }

    /** The words of {@code text}: its runs of letters, apostrophes and hyphens. */
    static Set<String> words(String text) {
        Set<String> words = new HashSet<>();
        int length = text.length();
        int i = 0;
        while (i < length) {
            while (i < length && !isWordChar(text.codePointAt(i))) {
                i += Character.charCount(text.codePointAt(i));
            }
            int start = i;
            while (i < length && isWordChar(text.codePointAt(i))) {
                i += Character.charCount(text.codePointAt(i));
            }
            if (i > start) {
                words.add(text.substring(start, i));
            }
        }
        return words;
    }

    private static boolean isWordChar(int codePoint) {
        return Character.isLetter(codePoint)
                || codePoint == '\''
                || codePoint == '\u2019'
                || codePoint == '-';
    }

    /**
     * The tokens of {@code text} (the runs between {@link #isSeparator separators}) that hold an
     * '@' or a '.': only those can be an address or a host.
     */
    static List<String> candidateTokens(String text) {
        List<String> tokens = new ArrayList<>();
        int length = text.length();
        int i = 0;
        while (i < length) {
            while (i < length && isSeparator(text.charAt(i))) {
                i++;
            }
            int start = i;
            boolean candidate = false;
            while (i < length && !isSeparator(text.charAt(i))) {
                char c = text.charAt(i);
                candidate = candidate || c == '@' || c == '.';
                i++;
            }
            if (candidate) {
                tokens.add(text.substring(start, i));
            }
        }
        return tokens;
    }

    /** The separators of tokens: white space, quotes, brackets and the like. */
    private static boolean isSeparator(char c) {
        return switch (c) {
            case ' ',
                    '\t',
                    '\n',
                    '\u000B',
                    '\f',
                    '\r',
                    '<',
                    '>',
                    '"',
                    '\'',
                    '`',
                    ',',
                    ';',
                    '!',
                    '|',
                    '\\',
                    '^',
                    '[',
                    ']',
                    '(',
                    ')',
                    '{',
                    '}',
                    '*' ->
                    true;
            default -> false;
        };
    }

    private static String orEmpty(String s) {
        return s == null ? "" : s;
    }

    private static boolean hasDigit(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c >= '0' && c <= '9') {
                return true;
            }
        }
        return false;
    }

    private static void add(List<String> flags, boolean set, String flag) {
        if (set) {
            flags.add(flag);
        }
    }

    /** A token (no spaces) that names a host: a domain with a known or IDN TLD, or an IP. */
    private static boolean isLink(String token) {
        if (token.startsWith("www.")) {
            return true;
        }
        int end = token.length();
        for (char c : new char[] {'/', '?', '#', ':'}) {
            int i = token.indexOf(c);
            if (i >= 0 && i < end) {
                end = i;
            }
        }
        String host = trim(token.substring(0, end));
        if (host.isEmpty()) {
            return false;
        }
        if (IP.matcher(host).matches()) {
            return true;
        }
        Matcher m = DOMAIN.matcher(host);
        if (!m.matches()) {
            return false;
        }
        String tld = m.group(1);
        return TLDS.contains(tld)
                || tld.startsWith("xn--")
                || host.contains("xn--")
                || tld.chars().anyMatch(c -> c > 0x7F);
    }

    /** Phone numbers as their digits: 7 to 15 digits that are not a date. */
    private static Set<String> phones(String text) {
        Set<String> out = new HashSet<>();
        Matcher m = PHONE.matcher(text);
        while (m.find()) {
            String candidate = m.group().strip();
            if (DATE_OR_TIME.matcher(candidate).find()) {
                continue;
            }
            String digits = candidate.replaceAll("\\D", "");
            if (digits.length() >= 7 && digits.length() <= 15) {
                out.add(digits);
            }
        }
        return out;
    }

    private static String trim(String token) {
        int start = 0;
        int end = token.length();
        while (start < end && ".:?!-_".indexOf(token.charAt(start)) >= 0) {
            start++;
        }
        while (end > start && ".:?!-_".indexOf(token.charAt(end - 1)) >= 0) {
            end--;
        }
        return token.substring(start, end);
    }

    /** NFKC, without format characters, lower case, obfuscations spelled out; at most max chars. */
    static String normalize(String s, int max) {
        return spelledOut(clean(s, max).toLowerCase(Locale.ROOT));
    }

    /** Lower-case text with "hxxp", "[.]", "(dot)", "[at]" and the like spelled out. */
    private static String spelledOut(String lower) {
        lower = lower.replace("hxxp", "http").replace("h**p", "http").replace("[:]", ":");
        if (lower.indexOf('[') < 0 && lower.indexOf('(') < 0 && lower.indexOf('{') < 0) {
            return lower;
        }
        lower = OBFUSCATED_DOT.matcher(lower).replaceAll(".");
        return OBFUSCATED_AT.matcher(lower).replaceAll("@");
    }

    /** NFKC and without format characters (zero-width, bidi, tags); at most max chars. */
    private static String clean(String s, int max) {
        String cut = s.length() > max ? s.substring(0, max) : s;
        if (isAscii(cut)) {
            return cut; // NFKC leaves ASCII as it is, and ASCII has no format characters
        }
        String n = Normalizer.normalize(cut, Normalizer.Form.NFKC);
        StringBuilder out = new StringBuilder(n.length());
        for (int i = 0; i < n.length(); i++) {
            char c = n.charAt(i);
            int type = Character.getType(c);
            if (type == Character.FORMAT
                    || (c >= 0xFE00 && c <= 0xFE0F)
                    || (Character.isSurrogate(c) && isTagOrFormat(n, i))) {
                continue;
            }
            out.append(c);
        }
        return out.toString();
    }

    private static boolean isAscii(String s) {
        for (int i = 0; i < s.length(); i++) {
            if (s.charAt(i) >= 0x80) {
                return false;
            }
        }
        return true;
    }

    /** True at either half of a supplementary format character (Unicode tags, for one). */
    private static boolean isTagOrFormat(String s, int i) {
        int cp = s.codePointAt(Character.isLowSurrogate(s.charAt(i)) && i > 0 ? i - 1 : i);
        return Character.getType(cp) == Character.FORMAT;
    }
}
