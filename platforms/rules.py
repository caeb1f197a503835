"""Canonicalisation rules per platform, kept as data.

Adding a platform means adding one `PlatformRules` entry to `PLATFORM_RULES` (and rows to the canonical-URL
table in tests/platforms/test_canonical.py); platforms/canonical.py interprets the entries and never names a
platform itself. docs/url-canonicalisation.md explains the fields with examples.

Every pattern is a regular expression matched against the WHOLE path (re.fullmatch) after the generic
normalisation: host folded, percent-escapes normalised, trailing slash removed. Templates use str.format
fields named after the pattern's groups; a template may carry a query (`/watch?v={id}`).
"""

from dataclasses import dataclass

# Removed from every URL, whatever the platform: click and campaign trackers that never select content.
TRACKING_PARAM_PREFIXES = ("utm_",)
TRACKING_PARAMS = frozenset({
    "fbclid", "gclid", "dclid", "gbraid", "wbraid", "msclkid", "yclid", "twclid", "ttclid", "igshid", "igsh",
    "si", "feature", "mc_cid", "mc_eid", "_ga", "_gl", "ref_src", "ref_url", "mibextid",
})

# Host prefixes that name the same site for another device or out of habit; removed wherever they appear
# above the registered domain (`www.m.example.com` → `example.com`, but `m.co.uk` stays).
STRIPPED_HOST_PREFIXES = ("www.", "m.", "mobile.")


@dataclass(frozen=True)
class PathRewrite:
    """Rewrite a path matching `pattern` to `template` (which may add query parameters).

    hosts: apply only when the URL's host (after prefix stripping, before alias folding) is one of these;
    empty means any host of the platform. lower: groups lower-cased before filling the template.
    """

    pattern: str
    template: str
    hosts: tuple[str, ...] = ()
    lower: tuple[str, ...] = ()


@dataclass(frozen=True)
class AccountPattern:
    """A path that names an account or channel rather than a piece of content.

    The pattern must have a group `handle` (unless `params` binds it). key: the part after `platform:` in
    account_key(), e.g. `@{handle}`. canonical: the path (and query) the account's URL canonicalises to;
    None keeps the canonical URL as it is. params: (query parameter, regex) pairs that must also match; their
    groups join the path's. reserved: first-path-segment words of the platform that look like handles but are
    not (`x.com/home`), compared lower-cased. case_insensitive: handles differing only in case are the same
    account, so they are lower-cased in the key and the canonical URL.
    """

    pattern: str
    key: str
    canonical: str | None = None
    params: tuple[tuple[str, str], ...] = ()
    reserved: frozenset[str] = frozenset()
    case_insensitive: bool = True


@dataclass(frozen=True)
class PlatformRules:
    """How one platform family's URLs canonicalise.

    slug: the family's name, the prefix of account keys (`x:someuser`).
    canonical_host: the host every alias folds to.
    domains: registered domains of the family (host → family uses the registered domain, so `vm.tiktok.com`
    belongs to `tiktok.com`'s family without being folded).
    aliases: hosts folded into canonical_host (exact host names, after www./m./mobile. are removed).
    short_hosts: link shorteners of the platform; kept as they are (they cannot be resolved offline) and
    flagged by url_warnings().
    rewrites: PathRewrite entries, tried in order, each at most once; a later one sees the earlier output.
    keep_query: if set, the only query parameters kept (after rewrites); None keeps all but trackers.
    drop_query: further parameters removed on this platform (trackers specific to it).
    accounts: AccountPattern entries, first match wins.
    """

    slug: str
    canonical_host: str
    domains: tuple[str, ...]
    aliases: tuple[str, ...] = ()
    short_hosts: tuple[str, ...] = ()
    rewrites: tuple[PathRewrite, ...] = ()
    keep_query: tuple[str, ...] | None = None
    drop_query: tuple[str, ...] = ()
    accounts: tuple[AccountPattern, ...] = ()


# Path words that are features of the platform, not user names. Kept generous: a false "not an account" only
# costs an account key, a false "account" would fold distinct pages together.
_X_RESERVED = frozenset({
    "home", "explore", "search", "i", "settings", "notifications", "messages", "compose", "login", "logout",
    "signup", "tos", "privacy", "hashtag", "intent", "share", "account", "jobs", "communities", "lists",
    "bookmarks", "premium", "about", "download", "help", "verified", "who_to_follow", "following", "followers",
})
_TELEGRAM_RESERVED = frozenset({
    "s", "c", "joinchat", "addstickers", "addemoji", "addtheme", "addlist", "share", "proxy", "socks", "iv",
    "login", "setlanguage", "boost", "contact", "confirmphone", "invoice", "bg", "msg", "giftcode", "k", "a",
    "z", "apps", "blog", "faq", "privacy", "tos",
})
_FACEBOOK_RESERVED = frozenset({
    "watch", "groups", "pages", "events", "marketplace", "gaming", "photo.php", "permalink.php", "profile.php",
    "story.php", "video.php", "photo", "photos", "share", "sharer", "sharer.php", "login", "login.php", "help",
    "policies", "privacy", "reel", "reels", "hashtag", "stories", "friends", "notifications", "messages",
    "settings", "search", "bookmarks", "memories", "saved", "ads", "business", "legal", "l.php", "home.php",
    "media", "fundraisers", "live", "people", "public", "dialog", "plugins", "checkpoint", "recover",
})
_INSTAGRAM_RESERVED = frozenset({
    "p", "reel", "reels", "tv", "explore", "stories", "accounts", "direct", "about", "legal", "developer",
    "web", "challenge", "emails", "session", "privacy", "terms", "api", "graphql", "oauth", "ar", "lite",
    "your_activity", "create", "static", "press", "nametag", "directory",
})
_VK_RESERVED = frozenset({
    "feed", "im", "search", "video", "videos", "audio", "audios", "music", "friends", "groups", "photos",
    "albums", "docs", "settings", "login", "join", "restore", "support", "help", "apps", "games", "market",
    "services", "clips", "stories", "away.php", "share.php", "wall", "topic", "note", "notes", "page", "blog",
    "about", "terms", "privacy", "dev", "bugs", "mail", "bookmarks", "fave", "messenger", "calls",
})

PLATFORM_RULES: tuple[PlatformRules, ...] = (
    PlatformRules(
        slug="youtube",
        canonical_host="youtube.com",
        domains=("youtube.com", "youtu.be", "youtube-nocookie.com"),
        aliases=("youtu.be", "youtube-nocookie.com", "music.youtube.com"),
        rewrites=(
            PathRewrite(r"/(?P<id>[\w-]{11})", "/watch?v={id}", hosts=("youtu.be",)),
            PathRewrite(r"/(?:shorts|live|embed|v|e)/(?P<id>[\w-]{11})", "/watch?v={id}"),
        ),
        keep_query=("v", "list"),
        accounts=(
            AccountPattern(
                r"/@(?P<handle>[\w.-]{1,100})(?:/(?:featured|videos|shorts|streams|live|playlists|community"
                r"|posts|releases|podcasts|about|channels|store|search))?",
                key="@{handle}", canonical="/@{handle}",
            ),
            AccountPattern(
                r"/channel/(?P<handle>UC[\w-]{22})(?:/[a-z]+)?",
                key="channel/{handle}", canonical="/channel/{handle}", case_insensitive=False,
            ),
            AccountPattern(r"/c/(?P<handle>[^/]+)(?:/[a-z]+)?", key="c/{handle}", canonical="/c/{handle}"),
            AccountPattern(r"/user/(?P<handle>[^/]+)(?:/[a-z]+)?", key="user/{handle}", canonical="/user/{handle}"),
        ),
    ),
    PlatformRules(
        slug="x",
        canonical_host="x.com",
        domains=("x.com", "twitter.com", "t.co", "fxtwitter.com", "vxtwitter.com", "fixupx.com"),
        aliases=("twitter.com", "fxtwitter.com", "vxtwitter.com", "fixupx.com", "fixvx.com"),
        short_hosts=("t.co",),
        rewrites=(
            # A status URL names the post by its id; the user segment is case-insensitive, photo/video
            # suffixes select a media item of the same post.
            PathRewrite(
                r"/(?P<user>\w{1,15})/status(?:es)?/(?P<id>\d+)(?:/(?:photo|video|analytics|likes|retweets"
                r"|quotes|history)(?:/\d+)?)?",
                "/{user}/status/{id}", lower=("user",),
            ),
        ),
        drop_query=("s", "t", "src", "cxt", "ref"),
        accounts=(
            AccountPattern(
                r"/(?P<handle>\w{1,15})(?:/(?:media|with_replies|likes|highlights|articles|superfollows"
                r"|affiliates|verified_followers|followers|following))?",
                key="{handle}", canonical="/{handle}", reserved=_X_RESERVED,
            ),
        ),
    ),
    PlatformRules(
        slug="telegram",
        canonical_host="t.me",
        domains=("t.me", "telegram.me", "telegram.dog"),
        aliases=("telegram.me", "telegram.dog"),
        rewrites=(
            PathRewrite(r"/s/(?P<rest>[A-Za-z]\w{2,31}(?:/\d+)?)", "/{rest}"),  # the web preview of a channel
            PathRewrite(r"/joinchat/(?P<hash>[\w-]+)", "/+{hash}"),
            PathRewrite(r"/(?P<channel>[A-Za-z]\w{2,31})/(?P<id>\d+)", "/{channel}/{id}", lower=("channel",)),
        ),
        drop_query=("single", "embed", "mode", "userpic", "dark"),
        accounts=(
            AccountPattern(r"/(?P<handle>[A-Za-z]\w{2,31})", key="{handle}", canonical="/{handle}",
                           reserved=_TELEGRAM_RESERVED),
            AccountPattern(r"/\+(?P<handle>[\w-]{6,})", key="+{handle}", canonical="/+{handle}",
                           case_insensitive=False),
        ),
    ),
    PlatformRules(
        slug="facebook",
        canonical_host="facebook.com",
        domains=("facebook.com", "fb.com", "fb.watch", "fb.me"),
        aliases=("fb.com", "web.facebook.com", "mbasic.facebook.com", "touch.facebook.com"),
        short_hosts=("fb.watch", "fb.me"),
        keep_query=("story_fbid", "id", "v", "fbid", "set", "comment_id", "reply_comment_id", "multi_permalinks"),
        accounts=(
            AccountPattern(r"/profile\.php", params=(("id", r"(?P<handle>\d+)"),), key="id:{handle}",
                           canonical="/profile.php?id={handle}"),
            AccountPattern(r"/people/[^/]+/(?P<handle>\d+)", key="id:{handle}", canonical="/profile.php?id={handle}"),
            AccountPattern(r"/groups/(?P<handle>[\w.-]+)", key="groups/{handle}", canonical="/groups/{handle}"),
            AccountPattern(
                r"/(?P<handle>[A-Za-z0-9.]{5,50})(?:/(?:about|photos|videos|posts|reels|followers|friends"
                r"|mentions|events|reviews|community))?",
                key="{handle}", canonical="/{handle}", reserved=_FACEBOOK_RESERVED,
            ),
        ),
    ),
    PlatformRules(
        slug="instagram",
        canonical_host="instagram.com",
        domains=("instagram.com", "instagr.am", "ig.me"),
        aliases=("instagr.am",),
        rewrites=(
            PathRewrite(r"/reels/(?P<id>[\w-]+)", "/reel/{id}"),
            PathRewrite(r"/[\w.]{1,30}/(?P<kind>p|reel|tv)/(?P<id>[\w-]+)", "/{kind}/{id}"),  # newer share form
        ),
        keep_query=(),
        accounts=(
            AccountPattern(
                r"/(?P<handle>[A-Za-z0-9._]{1,30})(?:/(?:reels|tagged|saved|followers|following|guides|channel))?",
                key="{handle}", canonical="/{handle}", reserved=_INSTAGRAM_RESERVED,
            ),
        ),
    ),
    PlatformRules(
        slug="tiktok",
        canonical_host="tiktok.com",
        domains=("tiktok.com",),
        short_hosts=("vm.tiktok.com", "vt.tiktok.com"),
        rewrites=(
            PathRewrite(r"/@(?P<user>[\w.]+)/(?P<kind>video|photo)/(?P<id>\d+)", "/@{user}/{kind}/{id}",
                        lower=("user",)),
            PathRewrite(r"/embed(?:/v2)?/(?P<id>\d+)", "/embed/v2/{id}"),
        ),
        keep_query=(),
        accounts=(
            AccountPattern(r"/@(?P<handle>[\w.]{1,30})(?:/live)?", key="@{handle}", canonical="/@{handle}"),
        ),
    ),
    PlatformRules(
        slug="rumble",
        canonical_host="rumble.com",
        domains=("rumble.com",),
        keep_query=(),
        accounts=(
            AccountPattern(r"/c/(?P<handle>[\w.-]+)(?:/(?:videos|shorts|livestreams|about|playlists))?",
                           key="c/{handle}", canonical="/c/{handle}"),
            AccountPattern(r"/user/(?P<handle>[\w.-]+)(?:/(?:videos|about|playlists))?",
                           key="user/{handle}", canonical="/user/{handle}"),
        ),
    ),
    PlatformRules(
        slug="odysee",
        canonical_host="odysee.com",
        domains=("odysee.com", "lbry.tv"),
        aliases=("lbry.tv",),
        drop_query=("r", "src", "lid"),
        accounts=(
            # LBRY names are case-sensitive; the `:claim` suffix only disambiguates, so it stays in the URL
            # but not in the key.
            AccountPattern(r"/@(?P<handle>[^/:#]+)(?::[0-9a-f]+)?", key="@{handle}", case_insensitive=False),
        ),
    ),
    PlatformRules(
        slug="bitchute",
        canonical_host="bitchute.com",
        domains=("bitchute.com",),
        aliases=("old.bitchute.com",),
        rewrites=(PathRewrite(r"/embed/(?P<id>[\w-]+)", "/video/{id}"),),
        keep_query=(),
        accounts=(
            AccountPattern(r"/channel/(?P<handle>[\w-]+)", key="channel/{handle}", canonical="/channel/{handle}",
                           case_insensitive=False),
        ),
    ),
    PlatformRules(
        slug="archive-org",
        canonical_host="archive.org",
        domains=("archive.org",),
        # web.archive.org/web/<timestamp>/<url> keeps its embedded URL as it is: the snapshot is the item.
    ),
    PlatformRules(
        slug="archive-today",
        canonical_host="archive.ph",
        domains=("archive.ph", "archive.today", "archive.is", "archive.li", "archive.vn", "archive.md",
                 "archive.fo"),
        aliases=("archive.today", "archive.is", "archive.li", "archive.vn", "archive.md", "archive.fo"),
    ),
    PlatformRules(
        slug="vk",
        canonical_host="vk.com",
        domains=("vk.com", "vk.ru", "vkontakte.ru", "vk.cc"),
        aliases=("vk.ru", "vkontakte.ru"),
        short_hosts=("vk.cc",),
        drop_query=("from", "ref"),
        accounts=(
            AccountPattern(r"/(?P<handle>[A-Za-z0-9_.]{2,32})", key="{handle}", canonical="/{handle}",
                           reserved=_VK_RESERVED),
        ),
    ),
    PlatformRules(
        slug="reddit",
        canonical_host="reddit.com",
        domains=("reddit.com", "redd.it"),
        aliases=("redd.it", "old.reddit.com", "new.reddit.com", "np.reddit.com", "i.reddit.com", "amp.reddit.com"),
        rewrites=(
            PathRewrite(r"/(?P<id>[a-z0-9]{4,10})", "/comments/{id}", hosts=("redd.it",)),
            # The title slug is decoration; a comment permalink has one more segment and is left alone.
            PathRewrite(r"/r/(?P<sub>\w+)/comments/(?P<id>[a-z0-9]+)(?:/[^/]*)?", "/r/{sub}/comments/{id}",
                        lower=("sub",)),
            PathRewrite(r"/u/(?P<user>[\w-]+)", "/user/{user}"),
        ),
        drop_query=("share_id", "rdt", "ref", "ref_source", "ref_campaign", "$deep_link", "_branch_match_id",
                    "_branch_referrer", "correlation_id", "post_fullname", "post_index", "sort"),
        accounts=(
            AccountPattern(r"/user/(?P<handle>[\w-]{3,20})(?:/(?:submitted|comments|overview))?",
                           key="u/{handle}", canonical="/user/{handle}"),
            AccountPattern(r"/r/(?P<handle>\w{2,21})(?:/(?:new|hot|top|rising|about))?",
                           key="r/{handle}", canonical="/r/{handle}"),
        ),
    ),
    PlatformRules(
        slug="discord",
        canonical_host="discord.com",
        domains=("discord.com", "discord.gg", "discordapp.com"),
        aliases=("discord.gg", "discordapp.com"),
        rewrites=(PathRewrite(r"/(?P<code>[\w-]{2,32})", "/invite/{code}", hosts=("discord.gg",)),),
        keep_query=(),
        accounts=(
            # An invite names a server; invite codes are case-sensitive.
            AccountPattern(r"/invite/(?P<handle>[\w-]{2,32})", key="invite/{handle}",
                           canonical="/invite/{handle}", case_insensitive=False),
        ),
    ),
    PlatformRules(
        slug="whatsapp",
        canonical_host="whatsapp.com",
        domains=("whatsapp.com", "wa.me"),
        keep_query=(),
        accounts=(
            AccountPattern(r"/channel/(?P<handle>[A-Za-z0-9]{20,40})", key="channel/{handle}",
                           canonical="/channel/{handle}", case_insensitive=False),
        ),
    ),
)
