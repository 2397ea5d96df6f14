"""Strip web-page chrome from plain-text captures of news article pages.

A "capture" is what select-all/copy (or a text dump) of an article page gives:
the article prose mixed with navigation menus, ticker strips, share buttons,
"related news" lists, sign-in forms, comment boxes, cookie banners, footers
and image file names.  ``clean_capture`` keeps the article (prose, headings,
bullet points, tables, FAQ) and drops the rest, without any site-specific
rules, so it works on captures from sites it has never seen.

Approach (pure Python, stdlib only, linear in the input size):

1. Normalise whitespace (CRLF, tabs, NBSP, zero-width characters) and parse
   every line into a unit: bullet / numbered / markdown-heading prefixes,
   table cells (``|`` or tab separated).
2. Repair broken lines: a capture of a hard-wrapped text dump is unwrapped,
   and a line that stops without terminal punctuation is joined with the next
   line when that one plainly continues the sentence (starts lowercase, with
   ``,;:)`` or ``(``) -- this is where a link or ticker widget was removed
   from a sentence.  Never across a line ending in ``.?!``.
3. Classify every line from line-level features: word count, terminal
   punctuation, stop-word density (en/es/fr/de/pt/it), title case, bullet
   prefix, repetition elsewhere in the page (menus are printed twice),
   price/ticker shapes, URLs and image file names, and multilingual
   boilerplate phrases (cookie consent, sign-in, newsletter, comments,
   copyright...).  Classes: prose (P), heading-like (H), short text (S),
   short bullet (B), table row (T), metadata such as date/by-lines (M),
   junk (J) and section barriers (X: "Related news", "Comments",
   "Share this article", "About the author", copyright footers).
4. Find the main content region: prose lines are anchors, chained into a
   cluster while the non-prose lines between them stay within a small
   weighted budget (a heading or two is fine; a headline list is not).  The
   cluster with the most prose words wins; neighbouring clusters are merged
   when close and not separated by a barrier, a run of headlines or (going
   backwards) the article's date/by-line.  A heading directly in front of
   the region (e.g. "Key takeaways") is pulled in.  FAQ sections are prose
   too, so they stay attached to the article body.
5. Render: paragraphs separated by a blank line, headings as ``## ...``,
   bullets as ``- ...``, table rows as ``a | b | c``.  Title, author and
   publication date are extracted as metadata ("Reading: X" lines, the
   heading-like line just before the region, "By X" lines, date lines in
   six languages).

Run the tests with::

    .venv/bin/python -m pytest tests/test_clean.py -q
"""

from __future__ import annotations

import logging
import re
import unicodedata
from dataclasses import dataclass
from datetime import date

log = logging.getLogger(__name__)

__all__ = ["CleanedText", "clean_capture"]


@dataclass(frozen=True)
class CleanedText:
    """Result of :func:`clean_capture`."""

    text: str
    title: str | None
    author: str | None
    published: str | None
    dropped_lines: int


# --------------------------------------------------------------------------
# Lexical resources
# --------------------------------------------------------------------------

_STOPWORDS = frozenset(
    """
    the a an and or of to in on at for with by from as is are was were be been being has have had
    it its this that these those which who whom whose will would can could should may might must
    not but than then there their they them we you he she his her our your i me my more most also
    into over after before about such so if no up out do does did said says while when where what
    how why all any some each other only just very even still because since until between under
    el la los las de del y o en un una unos unas que por para con se su sus es son fue al lo como
    más mas pero sin sobre entre este esta estos estas ha han muy ya también tambien le les
    le la les des du et ou en un une que qui pour par avec sur dans est sont au aux ce cette ces
    il elle ils pas plus sa son ses leur été mais ne
    der die das den dem des und oder im ein eine einer eines einem einen zu zum zur mit von vom
    für auf ist sind war nicht auch sich es sie er als bei nach wie aus dass werden wird hat haben
    noch um über
    os as do da dos das em no na nos nas uma com seu sua é são foi ao mais mas não
    il lo gli di della dei delle che per su è sono non più anche alla ma si
    """.split()
)

_MONTHS = {
    # English
    "january": 1, "february": 2, "march": 3, "april": 4, "may": 5, "june": 6, "july": 7,
    "august": 8, "september": 9, "october": 10, "november": 11, "december": 12,
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "jun": 6, "jul": 7, "aug": 8, "sep": 9,
    "sept": 9, "oct": 10, "nov": 11, "dec": 12,
    # Spanish
    "enero": 1, "febrero": 2, "marzo": 3, "abril": 4, "mayo": 5, "junio": 6, "julio": 7,
    "agosto": 8, "septiembre": 9, "setiembre": 9, "octubre": 10, "noviembre": 11,
    "diciembre": 12, "ene": 1, "abr": 4, "ago": 8, "dic": 12,
    # French (accents are stripped before lookup)
    "janvier": 1, "fevrier": 2, "mars": 3, "avril": 4, "mai": 5, "juin": 6, "juillet": 7,
    "aout": 8, "septembre": 9, "octobre": 10, "novembre": 11, "decembre": 12,
    "janv": 1, "fevr": 2, "fev": 2, "avr": 4, "juil": 7,
    # German
    "januar": 1, "janner": 1, "februar": 2, "marz": 3, "maerz": 3, "juni": 6, "juli": 7,
    "oktober": 10, "dezember": 12, "okt": 10, "dez": 12,
    # Portuguese
    "janeiro": 1, "fevereiro": 2, "marco": 3, "maio": 5, "junho": 6, "julho": 7,
    "setembro": 9, "outubro": 10, "novembro": 11, "dezembro": 12, "set": 9, "out": 10,
    # Dutch (cheap to support, common in European finance captures)
    "januari": 1, "februari": 2, "maart": 3, "mei": 5, "augustus": 8, "mrt": 3,
    # Italian
    "gennaio": 1, "febbraio": 2, "aprile": 4, "maggio": 5, "giugno": 6, "luglio": 7,
    "settembre": 9, "ottobre": 10, "dicembre": 12, "gen": 1, "mag": 5, "giu": 6,
    "lug": 7, "ott": 10,
}

_SOCIAL = frozenset(
    """facebook twitter x linkedin whatsapp telegram reddit pinterest email e-mail mail youtube
    instagram tiktok threads flipboard copy link print share messenger bluesky mastodon rss tumblr
    xing vk weibo wechat line sms""".split()
)

# Whole-line boilerplate (matched against the normalised line: lowercase, accents stripped,
# leading/trailing punctuation removed).  Kept as whole-line matches so article sentences
# that merely contain these words survive.
_BOILER_LINE_RE = re.compile(
    r"(?:share|share this|share on \w+|shares?|compartir|teilen|partager|condividi|tweet|email|e-mail|"
    r"print|imprimir|drucken|copy link|link copied|copied|save|saved|save article|bookmark|"
    r"follow|follow us|follow us on \w+|siguenos|folgen sie uns|suivez-nous|seguici|"
    r"search|buscar|suche|rechercher|cerca|menu|main menu|navigation|home|inicio|startseite|"
    r"accueil|skip to (?:main )?content|skip to navigation|back to top|"
    r"advertisement|advertising|advertise|publicidad|anzeige|werbung|publicite|pubblicita|"
    r"sponsored|sponsored content|ad|ads|ad image|adchoices|ad choices|"
    r"continue reading|read more|read full article|read the full article|read next|show more|"
    r"load more|see more|view all|view more|more|next|previous|prev|next article|"
    r"previous article|next post|previous post|"
    r"sign in|sign up|log in|login|logout|log out|register|subscribe|subscribe now|"
    r"iniciar sesion|registrarse|suscribete|suscribirse|anmelden|registrieren|abonnieren|"
    r"se connecter|s'abonner|connexion|accedi|abbonati|entrar|assinar|"
    r"accept|i accept|show purposes|accept all|accept all cookies|accept cookies|reject all|decline|agree|i agree|ok|"
    r"got it|manage (?:privacy |cookie |consent )?(?:settings|preferences|options)|"
    r"privacy settings|cookie settings|more options|customi[sz]e|"
    r"aceptar|aceptar todo|aceptar todas|rechazar|rechazar todo|configurar|"
    r"alle akzeptieren|akzeptieren|ablehnen|alle ablehnen|einstellungen|"
    r"tout accepter|tout refuser|parametrer|accetta|accetta tutti|rifiuta|"
    r"aceitar|aceitar todos|rejeitar|"
    r"password|username|username or email(?: address)?|email address|remember me|"
    r"forgot (?:your )?password|lost your password|welcome back|create (?:an )?account|"
    r"have an existing account sign in|font resizer(?:aa)?|aa|listen|listen to (?:this )?article|"
    r"audio|video|watch|play|close|x|loading|trending|trending now|newsletter|newsletters|"
    r"podcast|podcasts|quick links|about|about us|contact|contact us|corrections|disclaimer|"
    r"privacy|privacy policy|terms|terms of (?:use|service)|terms (?:and|&) conditions|"
    r"cookie policy|sitemap|careers|in this article|table of contents|tags|topics|"
    r"filed under|categories|category|author avatar|avatar|reply|responder|antworten|"
    r"repondre|rispondi|report|like|likes|upvote|downvote|cancel reply|no comments|"
    r"sin comentarios|aun no hay comentarios|be the first to comment|"
    r"add a (?:public )?comment|write a comment|post comment|submit|comentar|kommentieren|"
    r"quotes|market data|watchlist|add to watchlist|portfolio|get the app|download the app|"
    r"open in app|story continues below(?: advertisement)?|article continues below(?: advertisement)?|"
    r"continue reading below|story continues|scroll to continue|scroll to continue with content|"
    r"advertisement scroll to continue|follow:?|gift (?:this )?article|"
    r"more from [\w ]{1,30}|all news|news|latest|markets?|"
    r"(?:\d+ )?min(?:ute)?s? read|lesezeit|"
    r"(?:facebook|twitter|linkedin|whatsapp|telegram|reddit|email|x)(?: (?:facebook|twitter|"
    r"linkedin|whatsapp|telegram|reddit|email|x))+)"
)

# Phrases that mark a line as boilerplate wherever they occur (bounded by line length).
_COOKIE_RE = re.compile(
    r"\b(?:we|this (?:web)?site|our (?:web)?site|we and our (?:\d+ )?partners|our partners) "
    r"(?:use|uses|store|set|and our partners use)\b.{0,60}\bcookies?\b"
    r"|\bcookies? (?:policy|settings|preferences|consent|notice|banner)\b"
    r"|\baccept (?:all )?cookies\b"
    r"|\bby (?:clicking|continuing|using|selecting)\b.{0,80}\b(?:accept|agree|consent|cookies?)\b"
    r"|\bmanage (?:your )?(?:privacy|cookie|consent)\b"
    r"|\b(?:wir|diese (?:web)?seite|diese website) (?:verwenden|nutzen|setzt|setzen)\b.{0,60}cookies"
    r"|\bcookie-?(?:einstellungen|richtlinie|hinweis)\b|\bdatenschutz(?:erklarung|einstellungen|hinweise?)\b"
    r"|\balle akzeptieren\b|\bmit (?:einem )?klick auf\b"
    r"|\b(?:utilizamos|usamos|este sitio (?:web )?(?:utiliza|usa))\b.{0,60}cookies"
    r"|\bpolitica de (?:cookies|privacidad)\b|\baceptar (?:todas|todo|cookies)\b"
    r"|\bconfigura(?:r|cion de) (?:las )?cookies\b"
    r"|\bnous utilisons des (?:cookies|traceurs)\b|\bce site utilise des cookies\b|\btout accepter\b"
    r"|\bpolitique de (?:confidentialite|cookies)\b|\bgerer (?:les )?(?:cookies|preferences)\b"
    r"|\butilizziamo (?:i )?cookie\b|\bquesto sito utilizza (?:i )?cookie\b|\baccetta tutti\b"
    r"|\binformativa (?:sulla )?(?:privacy|cookie)\b"
    r"|\beste site (?:usa|utiliza) cookies\b|\baceitar (?:todos|cookies)\b"
    r"|\bpolitica de privacidade\b|\bwe value your privacy\b|\byour privacy choices\b"
    r"|\bdo not sell or share my personal information\b"
)

# Only on short lines: an article sentence may well say "data provided by the ministry".
_SHORT_BOILER_RE = re.compile(
    r"quotes? (?:are )?delayed|^(?:market )?data (?:is )?(?:provided|powered) by \S+(?: \S+){0,3}$"
    r"|prices? (?:are )?delayed"
    r"|\(?(?:photo|image|foto|bild)?\s*(?:by|credit|:)?[^()]{0,60}(?:/|via |: )getty images\)?$"
    r"|\bgetty images\)?$|\breuters/[a-z]|\bap photo\b|\bafp via getty\b|\bshutterstock\b|\bistock\b"
)
_COMMENT_HEADER_RE = re.compile(r"[\w .'-]{1,40} (?:says|said|wrote|dice|sagt|dit|scrive):")

_BOILER_PHRASE_RE = re.compile(
    r"all rights reserved|todos los derechos reservados|alle rechte vorbehalten"
    r"|tous droits reserves|tutti i diritti riservati|todos os direitos reservados"
    r"|^©|^\(c\) ?\d{4}|^copyright\b"
    r"|your email address will not be published|required fields are marked|add a public comment"
    r"|no hay comentarios|no comments yet|be the first to comment|log in to (?:comment|reply)"
    r"|comments are closed|sign in to your account|have an existing account"
    r"|don'?t have an account|create (?:a free|an|your) account|forgot (?:your )?password"
    r"|lost your password|already (?:a subscriber|have an account)|sign in with (?:google|apple|facebook|email)"
    r"|subscribe to (?:our|the) [\w ]{0,30}newsletter|sign up (?:for|to) (?:our|the) [\w ]{0,30}"
    r"(?:newsletter|briefing|alerts)|enter your email|get the latest .{0,60}(?:delivered|in your inbox)"
    r"|straight to your inbox|newsletter abonnieren|suscribete (?:a|al) (?:nuestro )?(?:boletin|newsletter)"
    r"|inscrivez-vous a (?:notre )?newsletter|iscriviti alla newsletter|unsubscribe at any time"
    r"|^sign up here|sign up here\W*$|newsletter provides|our standards\W+the thomson reuters"
    r"|thomson reuters trust principles|reporting by .{0,160}editing by|^editing by [a-z]"
    r"|we use social media to|follow us on (?:socials|social media|twitter|x|facebook|linkedin|instagram|telegram)"
    r"|join (?:us|our community) on (?:telegram|discord|twitter|x)\b"
    r"|brings you the latest|one-stop destination|your (?:trusted|go-to|one-stop) (?:source|destination)"
    r"|download (?:our|the) (?:free )?app|advertise with us|^click here\b"
    r"|for informational purposes only|(?:not|does not constitute) (?:intended as )?(?:investment|financial) advice"
    r"|^(?:read more|read also|also read|see also|related|more|lees ook|lees meer|mehr dazu|lesen sie auch|"
    r"lee tambien|lea tambien|lire aussi|a lire aussi|leggi anche|leia tambem|veja tambem|watch|listen)\s*:"
    r"|^continue reading\b|^learn more\b|^(?:our )?editorial (?:standards|guidelines|policy|process)\b"
    r"|^(?:tags|topics|filed under|categories|themen|schlagworte|schlagworter|etiquetas|temas|mots-cles"
    r"|argomenti)\s*:"
    r"|partners who compensate us|we may (?:earn|receive) (?:a )?(?:small )?(?:commission|compensation)"
    r"|\baffiliate links?\b|advertiser disclosure|^was this (?:article|page) helpful"
    r"|^story continues below|^article continues below"
    r"|^(?:previous|next) (?:article|post|story)\b|^(?:now |you are |currently )?reading\s*:"
    r"|^(?:photo|image|picture|foto|bild|credit|image credit|photo credit|imagen)s?\s*:"
    r"|^(?:[a-z][\w.'-]* ){1,3}(?:is|was) (?:a|an) (?:senior |staff |freelance |contributing |former |"
    r"financial |markets? |business )*(?:reporter|writer|journalist|editor|correspondent|analyst|"
    r"contributor|columnist)\b.{0,80}\b(?:cover|covers|covering|writes|writing|based in|previously|joined)\b"
    r"|^[\d.,]+[kmb]? (?:followers|following|subscribers|likes|shares|views|claps|comments|reads)$"
    r"|^\d+ (?:likes?|replies|repl(?:y|ies))$"
    r"|^(?:advertisement|anzeige|publicidad|publicite|werbung)\b"
)

# Section headers after which the article does not continue.  The kind matters: nothing
# after a comments header can outrank the article.
_BARRIER_RES = (
    ("comments", re.compile(
        r"(?:\d+ )?(?:comments?|comentarios?|kommentare?|commentaires?|commenti|reacties|"
        r"responses?|replies)(?: \d+)?|leave a (?:comment|reply)(?: cancel reply)?|"
        r"join the (?:conversation|discussion)|discussion|what do you think|"
        r"deja (?:un|tu) comentario|schreiben sie einen kommentar|laisser un commentaire|"
        r"lascia un commento|deixe (?:um|seu) comentario|show comments|view comments|"
        r"(?:\d+ )?comments? (?:\d+ )?"
    )),
    ("related", re.compile(
        r"more from [\w' ]{1,40}|related(?: articles| news| posts| stories| content| coverage| reading|"
        r" topics| quotes| videos| research| analysis| links| guides)?|"
        r"more (?:news|stories|articles|headlines)(?: from [\w ]{1,30})?|"
        r"(?:most )?(?:popular|viewed|shared)(?: news| stories| articles| now)?|"
        r"most read|you may also like|you might also like|you may be interested in|"
        r"you might be interested in|recommended(?: for you| stories| articles| reading)?|"
        r"also read|read also|see also|further reading|top stories|latest news|latest stories|"
        r"trending (?:news|stories|now|articles)|popular news|editor'?s picks|"
        r"mehr zum thema|das konnte sie auch interessieren|lesen sie auch|weitere artikel|"
        r"auch interessant|meistgelesen|noticias relacionadas|te puede interesar|mas noticias|"
        r"lo mas leido|tambien te puede interesar|a lire aussi|lire aussi|sur le meme sujet|"
        r"les plus lus|leggi anche|potrebbe interessarti|i piu letti|veja tambem|leia tambem|"
        r"mais lidas"
    )),
    ("share", re.compile(
        r"share this (?:article|story|post|page)|share (?:the|this) article|"
        r"compartir (?:este )?articulo|artikel teilen|partager (?:cet )?article|condividi (?:l')?articolo"
    )),
    ("bio", re.compile(
        r"about the authors?|about (?:the )?authors|sobre el autor|uber den autor|"
        r"uber die autorin|a propos de l'auteur|sull'autore|sobre o autor|author bio|"
        r"more from (?:this|the) author"
    )),
)
_FOOTER_RE = re.compile(
    r"all rights reserved|todos los derechos reservados|alle rechte vorbehalten|tous droits reserves"
    r"|tutti i diritti riservati|todos os direitos reservados|^©|^\(c\) ?\d{4}|^copyright\b"
)

_AD_MARKERS = frozenset({
    "advertisement", "advertising", "publicidad", "anzeige", "werbung", "publicite", "pubblicita",
    "sponsored", "ad", "ads", "ad image", "story continues", "story continues below",
    "story continues below advertisement", "article continues below", "continue reading below",
    "scroll to continue", "advertisement scroll to continue",
})

_GENERIC_SECTION_RE = re.compile(
    r"(?:key (?:takeaways|points|facts)|summary|introduction|overview|highlights|faq|"
    r"frequently asked questions.*|contents|in this article|conclusion|background|"
    r"puntos clave|resumen|das wichtigste in kurze|l'essentiel|in breve|em resumo)"
)

# --------------------------------------------------------------------------
# Line-level regexes
# --------------------------------------------------------------------------

_WORD_RE = re.compile(r"[^\W\d_][\w'’\-]*")
_CJK_RE = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]")
_TERMINAL_RE = re.compile(r"[.!?…。！？][\"'”’»)\]*]*$")
_CTRL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b\u200c\u200e\u200f\u2060\ufeff\u00ad]")
_SPACE_RE = re.compile(r"[\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]")
_BULLET_RE = re.compile(r"^(?:[•·▪▫◦‣⁃●○■□►▶➤→✓✔✗★☆*+\-–]|\d{1,2}[.)])\s+(?=\S)")
_NUMBERED_RE = re.compile(r"^(\d{1,2}[.)])\s+(?=\S)")
_MD_HEADING_RE = re.compile(r"^(#{1,6})\s+(.*?)\s*#*$")
_EMPHASIS_RE = re.compile(r"^(\*\*|__|\*|_)(\S.*?)\1$")
_MD_IMAGE_RE = re.compile(r"!\[[^\]\n]{0,300}\]\([^)\s]{0,1000}(?:\s+\"[^\"\n]{0,200}\")?\)")
_MD_LINK_RE = re.compile(r"\[([^\]\n]{1,300})\]\((?:[^)\s]{0,1000})(?:\s+\"[^\"\n]{0,200}\")?\)")
_TABLE_SPLIT_RE = re.compile(r"\t+| {3,}")
_TABLE_SEP_RE = re.compile(r"^[\s|:\-+=]+$")
_NUMERIC_TOKEN_RE = re.compile(
    r"^[(]?[+\-−▲▼]?[$€£¥]?\d[\d,.]*[.,]\d+%?[)]?$"  # 187.44  +1.2%  $88,301.00
    r"|^[(]?[+\-−▲▼][$€£¥]?\d[\d,.]*%?[)]?$"  # +3  (-5%)
    r"|^[$€£¥]\d[\d,.]*$"  # $300
)
_PRICE_RE = re.compile(r"[$€£¥]\s?\d[\d,]*\.\d{2,}")
_URLISH_RE = re.compile(
    r"https?:|www\.|urlhttps?|%2f|3a2f|\.(?:jpe?g|png|gif|webp|svg|avif|bmp|tiff?)\b", re.IGNORECASE
)
_LONG_DIGITS_RE = re.compile(r"\d{6,}")
_NAV_SEP_RE = re.compile(r"\s(?:\||›|»|>|/|•|·)\s")
_READING_RE = re.compile(
    r"^(?:reading|now reading|you are reading|currently reading|leyendo|sie lesen|vous lisez)\s*:\s*(.+)$",
    re.IGNORECASE,
)
_READ_TIME_RE = re.compile(
    r"\b\d+\s*(?:min(?:ute)?s?|minutos?|minuten|minuti)\.?\s*(?:de\s+)?"
    r"(?:read|lectura|lesezeit|lecture|lettura|leitura|de lectura|de leitura)\b"
    r"|\b(?:lesezeit|reading time|tiempo de lectura|temps de lecture)\b"
)
_RELTIME_RE = re.compile(
    r"^(?:\d+|an?|one)\s+(?:seconds?|minutes?|mins?|hours?|hrs?|h|days?|weeks?|months?)\s+ago$"
    r"|^(?:hace|vor|il y a|ha)\s+\d+\s+\w+$|^\d+\s+\w+\s+fa$"
    r"|^(?:yesterday|today|just now|ayer|hoy|gestern|heute|hier)$"
)
_UPDATED_RE = re.compile(
    r"\b(?:updated|last updated|actualizado|aktualisiert|mis a jour|aggiornato|atualizado|modified)\b"
)
_PUBLISHED_RE = re.compile(
    r"\b(?:published|publicado|publicada|veroffentlicht|publie|publiee|pubblicato|posted|erschienen)\b"
)
_TIME_RE = re.compile(r"\b\d{1,2}[:.h]\d{2}\s*(?:am|pm|uhr|h|et|est|edt|gmt|utc|cet)?\b")
_BYLINE_RE = re.compile(
    r"^(?:(?:[Ff]act[- ]checked|[Rr]eviewed|[Ee]dited|[Mm]edically reviewed|[Pp]hotos?|[Ii]llustrations?) by"
    r"|[Ww]ritten by|[Pp]osted by|[Rr]eported by|[Bb]y|BY|[Vv]on|[Pp]or|[Pp]ar|[Dd]i|[Dd]oor)(?:\s+|(?=[A-Z]))(.+)$"
)
_BYLINE_LOOSE_RE = re.compile(r"^(?:by|von|por|par|di|door|written by|posted by)\s+(.+)$", re.IGNORECASE)
_NOT_AUTHOR_RE = re.compile(r"^(?:fact[- ]checked|reviewed|edited|medically reviewed|photos?|illustrations?) by",
                            re.IGNORECASE)
_INLINE_BY_RE = re.compile(r"\s(?:[Bb]y|[Vv]on|[Pp]or|[Pp]ar)\s+([A-Z][^|,•·]{1,60})$")
_AUTHOR_LABEL_RE = re.compile(r"^(?:author|autor|autora|auteur|autore|written by)\s*:\s*(.+)$", re.IGNORECASE)
_NAME_CONNECTORS = frozenset("and & y und et e de van von da del der la le di dos das".split())

_DATE_DMY_RE = re.compile(
    r"\b(\d{1,2})(?:st|nd|rd|th|er|o|\.)?\s*(?:de\s+|of\s+)?([a-z]{3,10})\.?,?\s+(?:de\s+|del\s+)?(\d{4})\b"
)
_DATE_MDY_RE = re.compile(r"\b([a-z]{3,10})\.?\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})\b")
_DATE_ISO_RE = re.compile(r"\b(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})\b")
_DATE_CJK_RE = re.compile(r"(\d{4})\s*[年년]\s*(\d{1,2})\s*[月월]\s*(\d{1,2})\s*[日일]")
_DATE_DOT_RE = re.compile(r"\b(\d{1,2})\.(\d{1,2})\.(\d{4})\b")
_DATE_SLASH_RE = re.compile(r"\b(\d{1,2})/(\d{1,2})/(\d{4})\b")

_JOIN_FUNCTION_WORDS = frozenset(
    "the a an of by to from than with like as and or el la los las del der die das le les des du".split()
)
_QUOTES_OPEN = "\"'“”‘’«„‚"

# Weighted budget of non-prose lines allowed between two prose lines of one cluster.
_MAX_GAP = 3.0
# Larger budgets used when merging whole clusters (small clusters need to be closer).
_MERGE_GAP_ANY = 6.0
_MERGE_GAP_BIG = 12.0
_MERGE_BIG_WORDS = 30
# Markdown/emphasis regexes are only tried on lines up to this length (bounds backtracking).
_MAX_MARKUP_LINE = 1000


# --------------------------------------------------------------------------
# Units
# --------------------------------------------------------------------------


class _Unit:
    """One logical line of the capture plus the features used to classify it."""

    __slots__ = (
        "text", "bullet", "numbered", "md_level", "cells", "nsrc", "blank_before",
        "words", "nwords", "nstop", "title_ratio", "terminal", "norm", "kind",
        "barrier", "weight", "cjk", "date_iso", "is_title", "letters", "base",
    )

    def __init__(self, text: str, cells: list[str] | None, blank_before: int) -> None:
        self.bullet = False
        self.numbered = ""
        self.md_level = 0
        self.cells = cells
        self.nsrc = 1
        self.blank_before = blank_before
        self.kind = "S"
        self.barrier = ""
        self.weight = 1.0
        self.date_iso: str | None = None
        self.is_title = False
        self._set_text(text)

    def _set_text(self, text: str) -> None:
        md = _MD_HEADING_RE.match(text) if len(text) <= _MAX_MARKUP_LINE else None
        if md and md.group(2):
            self.md_level = len(md.group(1))
            text = md.group(2)
        else:
            num = _NUMBERED_RE.match(text)
            if num:
                # "12. Januar 2026" is a German date, not item 12 of a list
                nxt = text[num.end():].split(" ", 1)[0].rstrip(".,").lower()
                if _strip_accents(nxt) in _MONTHS:
                    num = None
            bul = None if num is None and text[:1].isdigit() else _BULLET_RE.match(text)
            if num:
                self.numbered = num.group(1)
                text = text[num.end():]
            elif bul:
                self.bullet = True
                text = text[bul.end():]
        emph = _EMPHASIS_RE.match(text) if len(text) <= _MAX_MARKUP_LINE else None
        if emph:
            text = emph.group(2).strip()
        self.text = text

    def append(self, other: _Unit) -> None:
        sep = "" if other.text[:1] in ",;:).]}…" else " "
        self.text = f"{self.text}{sep}{other.text}"
        self.nsrc += other.nsrc

    def compute_features(self) -> None:
        t = self.text
        self.words = _WORD_RE.findall(t)
        self.nwords = len(self.words)
        self.nstop = sum(1 for w in self.words if w.lower() in _STOPWORDS)
        content = [w for w in self.words[1:] if w.lower() not in _STOPWORDS]
        self.title_ratio = (sum(1 for w in content if w[0].isupper()) / len(content)) if content else 0.0
        self.terminal = bool(_TERMINAL_RE.search(t))
        self.letters = sum(map(str.isalpha, t[:400]))
        self.cjk = len(_CJK_RE.findall(t)) if self.nwords < 40 else 0
        self.norm = _normalise_key(t) if len(t) < 4000 else t[:4000].lower()


def _strip_accents(s: str) -> str:
    if s.isascii():
        return s
    return "".join(c for c in unicodedata.normalize("NFKD", s) if not unicodedata.combining(c))


_EDGE_PUNCT_RE = re.compile(r"^[\W_]+|[\W_]+$")


def _normalise_key(s: str) -> str:
    s = _strip_accents(s.lower())
    # keep a leading © so the footer pattern still sees it
    lead = "©" if s.startswith("©") else ""
    s = _EDGE_PUNCT_RE.sub("", s)
    return lead + " ".join(s.split())


# --------------------------------------------------------------------------
# Parsing and line repair
# --------------------------------------------------------------------------


def _normalise_text(raw: object) -> str:
    if raw is None:
        return ""
    if isinstance(raw, (bytes, bytearray)):
        raw = bytes(raw).decode("utf-8", errors="replace")
    elif not isinstance(raw, str):
        raw = str(raw)
    s = raw.replace("\r\n", "\n").replace("\r", "\n").replace("\u2028", "\n").replace("\u2029", "\n")
    s = _CTRL_RE.sub("", s)
    if "](" in s:
        # markdown-style captures: keep link text, drop targets and images
        s = _MD_IMAGE_RE.sub("", s)
        s = _MD_LINK_RE.sub(r"\1", s)
    return _SPACE_RE.sub(" ", s)


def _table_cells(line: str) -> list[str] | None:
    stripped = line.strip()
    if stripped.count("|") >= 2 or (stripped.count("|") == 1 and not _NAV_SEP_RE.search(stripped)
                                    and stripped.startswith("|")):
        cells = [c.strip() for c in stripped.strip("|").split("|")]
        return cells if len(cells) >= 2 else None
    if "\t" in stripped or "   " in stripped:
        cells = [c.strip() for c in _TABLE_SPLIT_RE.split(stripped) if c.strip()]
        return cells if len(cells) >= 2 else None
    return None


def _parse(text: str) -> tuple[list[_Unit], int]:
    units: list[_Unit] = []
    blanks = 0
    nonblank = 0
    for line in text.split("\n"):
        stripped = line.strip()
        if not stripped:
            blanks += 1
            continue
        nonblank += 1
        cells = _table_cells(stripped)
        collapsed = " ".join(stripped.split())
        units.append(_Unit(collapsed, cells, min(blanks, 9)))
        blanks = 0
    return units, nonblank


def _ends_sentence(text: str) -> bool:
    return bool(_TERMINAL_RE.search(text))


def _unwrap_hard_wrapped(units: list[_Unit]) -> list[_Unit]:
    """Join lines of a text dump that was hard-wrapped at a fixed width."""
    lengths = sorted(len(u.text) for u in units if len(u.text) >= 30)
    if len(lengths) < 8:
        return units
    width = lengths[int(len(lengths) * 0.9)]
    if width > 110:
        return units
    full = [i for i, u in enumerate(units) if len(u.text) >= 0.75 * width]
    if len(full) < 0.5 * len(lengths):
        return units
    # Headline lists are also full-width and unpunctuated; real wrapping is betrayed by
    # continuation lines that start lowercase.
    cont = sum(
        1 for i in full
        if i + 1 < len(units) and units[i + 1].blank_before == 0 and units[i + 1].text[:1].islower()
    )
    if cont < 0.25 * len(full):
        return units
    out: list[_Unit] = []
    last_len = 0  # length of the last physical line, not of the joined paragraph
    for u in units:
        prev = out[-1] if out else None
        physical = len(u.text)
        if (
            prev is not None
            and u.blank_before == 0
            and 0.6 * width <= last_len <= width + 10
            and not prev.md_level
            and prev.cells is None
            and u.cells is None
            and not u.bullet
            and not u.numbered
            and not u.md_level
        ):
            prev.append(u)
        else:
            out.append(u)
        last_len = physical
    return out


def _continues(prev: _Unit, nxt: _Unit) -> bool:
    """Whether ``nxt`` is the rest of a sentence that ``prev`` left unfinished."""
    if prev.md_level or nxt.md_level or nxt.bullet or nxt.numbered:
        return False
    if prev.cells is not None or nxt.cells is not None or nxt.blank_before > 2:
        return False
    pt, nt = prev.text, nxt.text
    if not pt or not nt or _ends_sentence(pt):
        return False
    if len(nt) > 1 and " " not in nt and not _ends_sentence(nt):
        return False  # a lone token such as an image URL is not a continuation
    if _URLISH_RE.search(nt[:200]):
        return False
    prev_words = pt.split()
    if len(prev_words) < 2 and not pt.endswith(","):
        return False
    c = nt[0]
    if c not in ",;:)]}…":
        # A headline followed by a dateline ("… S&P 500" / "lunes, 12 de enero de 2026")
        # is two lines of metadata, not a broken sentence.
        if len(nt) < 200 and _find_date(_strip_accents(nt.lower())):
            return False
        by = _BYLINE_LOOSE_RE.match(nt)
        if by and len(nt) < 80 and _clean_name(by.group(1)):
            return False  # "… headline" + "by Jane Doe"
        content = [w for w in prev_words[1:] if w.lower() not in _STOPWORDS and w[:1].isalpha()]
        if len(content) >= 4 and sum(1 for w in content if w[:1].isupper()) >= 0.75 * len(content):
            return False
    if c.islower() or c in ",;:)]}…":
        return True
    if c == "(":
        return True
    if c in _QUOTES_OPEN and len(nt) > 1 and nt[1].islower():
        return True
    # "… like the" + "Russell 2000 index rose": a widget removed from mid-sentence.
    last = prev_words[-1].lower()
    if last in _JOIN_FUNCTION_WORDS and len(prev_words) >= 4 and len(nt.split()) >= 3:
        prev_caps = sum(1 for w in prev_words[1:] if w[:1].isupper())
        if prev_caps <= len(prev_words) // 3:
            return True
    return False


def _rejoin(units: list[_Unit]) -> list[_Unit]:
    out: list[_Unit] = []
    for u in units:
        if out and _continues(out[-1], u):
            out[-1].append(u)
            continue
        out.append(u)
    return out


# --------------------------------------------------------------------------
# Dates and names
# --------------------------------------------------------------------------


def _mk_date(y: int, m: int, d: int) -> str | None:
    if not (1900 <= y <= 2100):
        return None
    try:
        return date(y, m, d).isoformat()
    except ValueError:
        return None


def _find_date(norm: str) -> str | None:
    """First full (day, month, year) date in an accent-stripped lowercase string."""
    best: tuple[int, str] | None = None

    def consider(pos: int, iso: str | None) -> None:
        nonlocal best
        if iso and (best is None or pos < best[0]):
            best = (pos, iso)

    for m in _DATE_ISO_RE.finditer(norm):
        consider(m.start(), _mk_date(int(m.group(1)), int(m.group(2)), int(m.group(3))))
    for m in _DATE_DMY_RE.finditer(norm):
        mon = _MONTHS.get(m.group(2))
        if mon:
            consider(m.start(), _mk_date(int(m.group(3)), mon, int(m.group(1))))
    for m in _DATE_MDY_RE.finditer(norm):
        mon = _MONTHS.get(m.group(1))
        if mon:
            consider(m.start(), _mk_date(int(m.group(3)), mon, int(m.group(2))))
    for m in _DATE_CJK_RE.finditer(norm):
        consider(m.start(), _mk_date(int(m.group(1)), int(m.group(2)), int(m.group(3))))
    for m in _DATE_DOT_RE.finditer(norm):
        consider(m.start(), _mk_date(int(m.group(3)), int(m.group(2)), int(m.group(1))))
    for m in _DATE_SLASH_RE.finditer(norm):
        a, b = int(m.group(1)), int(m.group(2))
        if a > 12:
            consider(m.start(), _mk_date(int(m.group(3)), b, a))
        elif b > 12:
            consider(m.start(), _mk_date(int(m.group(3)), a, b))
    return best[1] if best else None


def _clean_name(s: str) -> str | None:
    s = re.split(r"\s*(?:[|,•·]|\s-\s|\s—\s|\s–\s)\s*", s.strip(), maxsplit=1)[0].strip(" .:;")
    words = s.split()
    if not 1 <= len(words) <= 6 or len(s) > 60:
        return None
    if any(ch.isdigit() for ch in s) or ":" in s or "?" in s or "!" in s:
        return None
    if not words[0][:1].isupper():
        return None
    for w in words:
        if not (w[:1].isupper() or w.lower() in _NAME_CONNECTORS):
            return None
    if all(w.lower() in _STOPWORDS for w in words):
        return None
    return s


# --------------------------------------------------------------------------
# Classification
# --------------------------------------------------------------------------


def _is_ticker(u: _Unit) -> bool:
    if u.nwords > 8 or u.cells is not None:
        return False
    t = u.text
    if u.terminal and u.nwords >= 4:
        return False
    tokens = t.split()
    numeric = sum(1 for tok in tokens if _NUMERIC_TOKEN_RE.match(tok.strip(",;")))
    if numeric >= 2 and numeric >= 0.4 * len(tokens):
        return True
    if numeric >= 1 and len(tokens) <= 3 and any(ch.isdigit() for ch in t):
        return True
    return bool(_PRICE_RE.search(t)) and u.nwords <= 5


def _is_logo_dup(t: str) -> bool:
    tokens = t.split()
    n = len(tokens)
    if n >= 2 and n % 2 == 0 and tokens[: n // 2] == tokens[n // 2:]:
        return True
    compact = t.replace(" ", "")
    half = len(compact) // 2
    return len(compact) >= 4 and len(compact) % 2 == 0 and compact[:half] == compact[half:]


def _classify(units: list[_Unit]) -> None:
    """Context-free classification of every unit (the expensive part, done once)."""
    counts: dict[str, int] = {}
    for u in units:
        if len(u.norm) < 200:
            counts[u.norm] = counts.get(u.norm, 0) + 1
    total_words = sum(u.nwords for u in units) or 1
    # Languages without our stop-words (or CJK) must not fail the prose test on that alone.
    has_stopwords = sum(u.nstop for u in units) >= 0.04 * total_words

    _mark_tables(units)
    for u in units:
        u.kind, u.barrier, u.weight = _classify_one(u, counts, has_stopwords)
        u.base = (u.kind, u.barrier, u.weight)


def _apply_context(units: list[_Unit], title_key: str | None) -> None:
    """Cheap second stage: the title line becomes metadata, headline lists become barriers."""
    for u in units:
        u.kind, u.barrier, u.weight = u.base
        if title_key and u.norm == title_key and u.kind != "X":
            u.kind, u.barrier, u.weight = "M", "", 1.0
    _demote_inline_boxes(units)
    _mark_headline_runs(units)


def _demote_inline_boxes(units: list[_Unit]) -> None:
    """A "Related" box of a few links *inside* the article must not cut the article in two.

    The box is recognised by prose right before it and prose resuming right after its
    (at most three) link lines; the box lines become droppable junk instead of a barrier.
    """
    n = len(units)
    for i, u in enumerate(units):
        if u.kind != "X" or u.barrier != "related":
            continue
        j = i - 1
        while j >= 0 and i - j <= 3 and units[j].kind == "J":
            j -= 1
        if j < 0 or units[j].kind != "P" or i - j > 3:
            continue
        k = i + 1
        links = 0
        while (k < n and k - i <= 8 and links <= 3 and units[k].kind in ("H", "B", "J", "S")
               and not units[k].terminal):
            links += units[k].kind != "J"
            k += 1
        # Teaser cards ("headline", "summary.", "headline", "summary.") look the same at first;
        # the article resuming is betrayed by two prose paragraphs in a row.
        if (k + 1 < n and units[k].kind == "P" and units[k + 1].kind == "P" and 1 <= links <= 3):
            for v in units[i:k]:
                v.kind, v.barrier, v.weight = "J", "", 0.3


def _classify_one(u: _Unit, counts: dict[str, int], has_stopwords: bool) -> tuple[str, str, float]:
    t, norm, nw = u.text, u.norm, u.nwords
    letters = u.letters

    if u.cells is not None:
        # part of a numeric table run (see _mark_tables): content, and no gap in the cluster
        return "T", "", 0.0

    if not letters and not u.cjk:
        # "2026-01-12" / "14.01.2026" on their own are datelines
        if len(t) <= 40:
            u.date_iso = _find_date(norm)
            if u.date_iso:
                return "M", "", 1.0
        return "J", "", 1.0

    if nw <= 8:
        for kind, rx in _BARRIER_RES:
            if rx.fullmatch(norm):
                return "X", kind, 1.0
    if nw <= 12 and _FOOTER_RE.search(norm):
        return "X", "footer", 1.0

    if nw <= 12 and _BOILER_LINE_RE.fullmatch(norm):
        # ad slots sit inside article bodies, so they cost less of the cluster's gap budget
        weight = 0.5 if norm in _AD_MARKERS else 1.0
        return "J", "", weight
    if nw <= 150 and _COOKIE_RE.search(norm):
        return "J", "", 1.0
    if nw <= 20 and _SHORT_BOILER_RE.search(norm):
        return "J", "", 1.0
    if nw <= 8 and _COMMENT_HEADER_RE.fullmatch(t):
        return "J", "", 1.0  # "Marta K. says:" heads a comment
    if nw <= 45 and _BOILER_PHRASE_RE.search(norm):
        weight = 0.5 if norm in _AD_MARKERS or norm.startswith(("advertisement", "story continues")) else 1.0
        return "J", "", weight

    if nw <= 15:
        if _READING_RE.match(t):
            return "J", "", 1.0
        by = _BYLINE_RE.match(t)
        if by and _clean_name(by.group(1)):
            return "M", "", 1.0
        if _AUTHOR_LABEL_RE.match(t):
            return "M", "", 1.0
        u.date_iso = _find_date(norm)
        if u.date_iso or _READ_TIME_RE.search(norm):
            return "M", "", 1.0
        if _UPDATED_RE.search(norm) and _TIME_RE.search(norm):
            return "M", "", 1.0
        if nw <= 4 and _RELTIME_RE.match(norm):
            return "M", "", 1.0

    if nw <= 12 and _is_ticker(u):
        return "J", "", 1.0

    prose = _is_prose(u, has_stopwords)
    if not prose:
        if nw <= 15 and _URLISH_RE.search(t):
            return "J", "", 1.0
        if nw <= 3 and _LONG_DIGITS_RE.search(t):
            return "J", "", 1.0
        nonspace = len(t) - t.count(" ")
        if len(t) <= 60 and letters < 0.3 * nonspace:
            return "J", "", 1.0
        if nw <= 6 and _is_logo_dup(t):
            return "J", "", 1.0
        lowered = [w.lower() for w in t.replace(",", " ").split()]
        if lowered and all(w in _SOCIAL for w in lowered):
            return "J", "", 1.0
        if nw <= 4 and not u.terminal and counts.get(norm, 0) >= 2:
            return "J", "", 1.0  # menus are printed twice (header and footer / mobile)
        if len(_NAV_SEP_RE.findall(t)) >= 2:
            parts = re.split(r"\s(?:\||›|»|>|/|•|·)\s", t)
            if all(len(p.split()) <= 3 for p in parts):
                return "J", "", 1.0  # breadcrumbs / inline menus

    if prose:
        return "P", "", 0.0
    if u.md_level:
        return "H", "", 1.0
    if u.bullet:
        return "B", "", (0.5 if nw >= 2 else 1.0)
    if _is_heading_like(u):
        return "H", "", 1.0
    return "S", "", 0.5


def _is_prose(u: _Unit, has_stopwords: bool) -> bool:
    nw = u.nwords
    t = u.text
    if u.md_level:
        return False
    if u.cjk >= 20 and u.terminal:
        return True
    stop_ok = u.nstop >= 1 or not has_stopwords
    ratio = u.nstop / nw if nw else 0.0
    if u.bullet and nw >= 6 and (u.terminal or ratio >= 0.15 or not has_stopwords):
        return True
    if nw >= 8 and u.terminal and stop_ok:
        # Title-case questions/exclamations are headings ("Why Now? Small Caps Surge!").
        if t.rstrip("\"'”’»)").endswith(("?", "!")) and u.title_ratio >= 0.75 and nw <= 20:
            return False
        return True
    if nw >= 8 and t.endswith(":") and u.nstop >= 2 and u.title_ratio < 0.6:
        return True
    if nw >= 20 and (ratio >= 0.15 or not has_stopwords) and u.title_ratio < 0.6:
        return True
    return False


def _is_heading_like(u: _Unit) -> bool:
    t = u.text
    if not 1 <= u.nwords <= 20:
        return False
    first = t[0]
    if not (first.isupper() or first.isdigit() or first in "\"“«¿¡('‘"):
        return False
    if t.endswith((",", ";")) or t.endswith("...") or t.endswith("…"):
        return False
    if t.endswith("."):
        return False
    if t.endswith(":") and u.nwords >= 5 and u.title_ratio < 0.5:
        return False  # "Three groups did most of the work:" introduces a list, it is not a title
    if t.endswith(("?", "!")) and u.title_ratio < 0.6 and u.nwords > 4:
        return False
    return True


def _mark_tables(units: list[_Unit]) -> None:
    """Keep cells only on runs of table rows with numbers; a lone pipe/tab line is plain text."""
    i = 0
    n = len(units)
    while i < n:
        if units[i].cells is None:
            i += 1
            continue
        j = i
        while j < n and units[j].cells is not None and (j == i or units[j].blank_before <= 1):
            j += 1
        run = units[i:j]
        counts = [len(u.cells or ()) for u in run if not _TABLE_SEP_RE.match(u.text)]
        has_digits = any(any(ch.isdigit() for ch in u.text) for u in run)
        if not (len(run) >= 2 and has_digits and counts and max(counts) - min(counts) <= 1):
            for u in run:
                u.cells = None
        i = j


def _mark_headline_runs(units: list[_Unit]) -> None:
    """Three or more headline-like lines in a row are a "more news" list: a barrier."""
    run: list[_Unit] = []

    def flush() -> None:
        if len(run) >= 3:
            for r in run:
                r.kind, r.barrier = "X", "headlines"
        run.clear()

    for u in units:
        if u.kind == "J" and run:
            continue  # thumbnails and image names sit between the headlines
        # Short sentence-case bullets are more likely key points than links, so only
        # title-case bullets count towards a headline list.
        if (u.kind == "H" or (u.kind == "B" and u.title_ratio >= 0.6)) and u.nwords >= 4 \
                and not u.md_level and not u.numbered:
            run.append(u)
        else:
            flush()
    flush()


# --------------------------------------------------------------------------
# Main content region
# --------------------------------------------------------------------------


class _Cluster:
    __slots__ = ("start", "end", "words")

    def __init__(self, start: int) -> None:
        self.start = start
        self.end = start
        self.words = 0


def _clusters(units: list[_Unit]) -> list[_Cluster]:
    out: list[_Cluster] = []
    cur: _Cluster | None = None
    gap = 0.0
    for i, u in enumerate(units):
        if u.kind == "P":
            if cur is None or gap > _MAX_GAP:
                cur = _Cluster(i)
                out.append(cur)
            cur.end = i
            cur.words += u.nwords + u.cjk // 2
            gap = 0.0
        elif u.kind == "X":
            cur = None
            gap = 0.0
        elif cur is not None:
            gap += u.weight
            if gap > _MAX_GAP:
                cur = None
    return out


def _between(units: list[_Unit], a: int, b: int, stop_at_meta: bool) -> float | None:
    """Weighted gap between two clusters, or None when they must not be merged."""
    gap = 0.0
    for i in range(a, b):
        u = units[i]
        if u.kind == "X":
            return None
        if stop_at_meta and u.kind == "M":
            return None
        gap += u.weight
        if gap > _MERGE_GAP_BIG:
            return gap  # already too far apart; no need to walk a huge gap
    return gap


def _select_region(units: list[_Unit]) -> tuple[int, int] | None:
    clusters = _clusters(units)
    if not clusters:
        return None
    first_comments = next((i for i, u in enumerate(units) if u.barrier == "comments"), None)
    before_comments = (
        sum(k.words for k in clusters if k.end < first_comments) if first_comments is not None else 0
    )

    def score(c: _Cluster) -> float:
        # Comments are prose too; they only win when there is no article above them.
        if first_comments is not None and c.start > first_comments and before_comments >= 40:
            return c.words * 0.3
        return float(c.words)

    mi = max(range(len(clusters)), key=lambda k: (score(clusters[k]), -k))
    start, end = clusters[mi].start, clusters[mi].end
    for c in clusters[mi + 1:]:
        # a by-line or dateline after the body ("Written by …") starts the author box
        gap = _between(units, end + 1, c.start, stop_at_meta=True)
        if gap is None or not (gap <= _MERGE_GAP_ANY or (gap <= _MERGE_GAP_BIG and c.words >= _MERGE_BIG_WORDS)):
            break
        end = c.end
    for c in reversed(clusters[:mi]):
        gap = _between(units, c.end + 1, start, stop_at_meta=True)
        if gap is None or not (gap <= _MERGE_GAP_ANY or (gap <= _MERGE_GAP_BIG and c.words >= _MERGE_BIG_WORDS)):
            break
        start = c.start
    return start, end


def _extend_with_short_sentences(units: list[_Unit], start: int, end: int) -> tuple[int, int]:
    """Short sentence paragraphs ("It did not last.") touching the region belong to it."""
    def ok(u: _Unit) -> bool:
        return u.kind == "S" and u.terminal and u.nwords >= 2 and not u.bullet and not u.is_title

    steps = 0
    while start > 0 and steps < 3 and ok(units[start - 1]):
        start -= 1
        steps += 1
    steps = 0
    while end + 1 < len(units) and steps < 3 and ok(units[end + 1]):
        end += 1
        steps += 1
    return start, end


def _leading_headings(units: list[_Unit], start: int) -> int:
    """Pull a section heading (with its short bullets) just above the region into it."""
    i = start - 1
    candidates: list[int] = []
    while i >= 0 and len(candidates) < 12:
        u = units[i]
        if u.kind not in ("H", "B") or u.is_title:
            break
        candidates.append(i)
        i -= 1
    headings = 0
    new_start = start
    for idx in candidates:  # nearest first
        if units[idx].kind == "H":
            headings += 1
            if headings > 2:
                break
            new_start = idx
    return new_start


# --------------------------------------------------------------------------
# Metadata
# --------------------------------------------------------------------------


def _title_candidates(units: list[_Unit], start: int) -> str | None:
    for u in units:
        m = _READING_RE.match(u.text)
        if m and u.nwords <= 30:
            cand = m.group(1).strip()
            if len(cand.split()) >= 2:
                return cand
    for u in units[:start]:
        if u.md_level == 1 and 2 <= u.nwords <= 30:
            return u.text
    best: tuple[float, int] | None = None
    seen = 0
    i = start - 1
    while i >= 0 and seen < 25:
        u = units[i]
        seen += 1
        if (
            u.kind in ("H", "S", "P")
            and not u.bullet
            and not u.numbered
            and u.md_level != 2
            and u.cells is None
            and 2 <= u.nwords <= 30
            and len(u.text) >= 12
            and not u.text.endswith((".", ",", ";", ":"))
            and not _GENERIC_SECTION_RE.fullmatch(u.norm)
        ):
            sc = 2.0 if u.nwords >= 4 else 0.0
            sc += 0.5 if u.title_ratio >= 0.6 else 0.0
            sc += 0.5 if u.kind == "H" else 0.0
            # The headline sits right above the by-line / dateline.
            if any(v.kind == "M" for v in units[i + 1: i + 4]):
                sc += 2.5
            if best is None or sc >= best[0]:  # ties go to the earlier line: title before dek
                best = (sc, i)
        i -= 1
    return units[best[1]].text if best else None


def _extract_author(units: list[_Unit], limit: int, region_start: int) -> str | None:
    for u in units[:limit]:
        if u.nwords > 15:
            continue
        m = _BYLINE_RE.match(u.text) or _AUTHOR_LABEL_RE.match(u.text)
        if m and not _NOT_AUTHOR_RE.match(u.text):
            name = _clean_name(m.group(1))
            if name:
                return name
    for u in units[:limit]:
        # "Posted on January 9, 2026 by Daniel Whitcombe"
        if u.kind == "M" and u.date_iso:
            m = _INLINE_BY_RE.search(u.text)
            name = _clean_name(m.group(1)) if m else None
            if name:
                return name
    for i, u in enumerate(units[:limit]):
        if u.norm in ("author avatar", "avatar", "author image", "author photo") and i + 1 < len(units):
            name = _clean_name(units[i + 1].text)
            if name:
                return name
    # An unlabelled name printed right next to the dateline above the article.
    for i in range(max(0, region_start - 12), min(region_start, limit)):
        u = units[i]
        if u.kind not in ("H", "S") or u.is_title or not 2 <= u.nwords <= 4 or u.nstop:
            continue
        near = units[max(0, i - 1): i + 2]
        if any(v.kind == "M" and (v.date_iso or _RELTIME_RE.match(v.norm)) for v in near):
            name = _clean_name(u.text)
            if name:
                return name
    return None


def _extract_published(units: list[_Unit], region_start: int, limit: int) -> str | None:
    dated = [(i, u) for i, u in enumerate(units[:limit]) if u.kind == "M" and u.date_iso]
    for _, u in dated:
        m = _PUBLISHED_RE.search(u.norm)
        if m:
            # "Updated Feb 3, 2026 · Published Jan 30, 2026": the date after the label wins
            return _find_date(u.norm[m.end():]) or u.date_iso
    fresh = [(i, u) for i, u in dated if not _UPDATED_RE.search(u.norm)]
    for i, u in fresh:
        if i < region_start:
            return u.date_iso
    if fresh:
        return fresh[0][1].date_iso
    return dated[0][1].date_iso if dated else None


# --------------------------------------------------------------------------
# Rendering
# --------------------------------------------------------------------------


# A footnote number glued to the end of a sentence ("operating profit).6 Because", "earnings.7 Small"): the
# superscript lost its formatting in the capture. Only after a letter/bracket + period, never inside "$2.5 B".
_FOOTNOTE = re.compile(r"(?<=[^\W\d_][.!?]|[)\"”][.!?])\d{1,2}(?=\s+[A-Z])|(?<=[^\W\d_][.!?][)\"”])\d{1,2}(?=\s+[A-Z])")


def _render_unit(u: _Unit) -> str:
    if u.kind != "T":
        u.text = _FOOTNOTE.sub("", u.text)
    if u.kind == "T":
        if u.text.startswith("|") or u.text.count("|") >= 2:
            return u.text
        return " | ".join(u.cells or [u.text])
    if u.kind == "H" or (u.md_level and u.kind not in ("P",)):
        text = u.text.rstrip(":").rstrip()
        if u.numbered:
            text = f"{u.numbered} {text}"
        return f"## {text}"
    if u.bullet:
        return f"- {u.text}"
    if u.numbered:
        return f"{u.numbered} {u.text}"
    return u.text


def _render(kept: list[_Unit]) -> str:
    blocks: list[str] = []
    prev_kind = ""
    for u in kept:
        line = _render_unit(u)
        if u.kind == "T":
            group = "table"
        elif u.bullet and u.kind in ("P", "B"):
            group = "list"
        elif u.numbered and u.kind in ("P", "S"):
            group = "olist"
        else:
            group = ""
        if blocks and group and group == prev_kind:
            blocks[-1] += "\n" + line
        else:
            blocks.append(line)
        prev_kind = group
    return "\n\n".join(blocks)


# --------------------------------------------------------------------------
# Public entry point
# --------------------------------------------------------------------------


def clean_capture(raw: str) -> CleanedText:
    """Return the article text and metadata of a plain-text web page capture."""
    try:
        return _clean(raw)
    except Exception:  # noqa: BLE001 -- ingestion must never die on one odd capture
        log.exception("clean_capture failed; returning whitespace-normalised input")
        text = _normalise_text(raw)
        paras = [" ".join(p.split()) for p in re.split(r"\n\s*\n", text)]
        return CleanedText("\n\n".join(p for p in paras if p), None, None, None, 0)


def _clean(raw: str) -> CleanedText:
    text = _normalise_text(raw)
    units, nonblank = _parse(text)
    if not units:
        return CleanedText("", None, None, None, 0)
    units = _unwrap_hard_wrapped(units)
    units = _rejoin(units)
    for u in units:
        u.compute_features()

    # First pass without a title to find the region, then again with the title known so
    # the title line (and repeats of it) are treated as metadata rather than a heading.
    _classify(units)
    _apply_context(units, None)
    region = _select_region(units)
    start = region[0] if region else len(units)
    title = _title_candidates(units, start)
    if title:
        title_key = _normalise_key(title)
        for u in units:
            if u.norm == title_key:
                u.is_title = True
        _apply_context(units, title_key)
        region = _select_region(units)

    first_comments = next((i for i, u in enumerate(units) if u.barrier == "comments"), len(units))
    author = _extract_author(units, first_comments, region[0] if region else len(units))
    if author:
        author_key = _normalise_key(author)
        for u in units:
            if u.norm == author_key and u.kind in ("H", "S", "B", "J"):
                u.kind, u.weight = "M", 1.0

    if region is None:
        # No prose anchor at all (a one-liner, a list): keep whatever is not chrome.
        kept = [u for u in units if u.kind in ("P", "S", "H", "B", "T") and not u.is_title]
        start = len(units)
    else:
        start, end = _extend_with_short_sentences(units, *region)
        start = _leading_headings(units, start)
        kept = [u for u in units[start:end + 1] if u.kind in ("P", "S", "H", "B", "T") and not u.is_title]

    published = _extract_published(units, start, first_comments)
    body = _render(kept)
    dropped = max(0, nonblank - sum(u.nsrc for u in kept))
    return CleanedText(body, title, author, published, dropped)
