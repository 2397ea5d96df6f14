"""The word and pattern tables of page-chrome removal: stopwords, months, boilerplate phrases (cookie banners,
sign-in, newsletter, comments, copyright) in six languages, section barriers, and the line-level patterns and
thresholds the classifier reads. Data only; the logic is in lines, classify, region and capture."""

from __future__ import annotations

import logging
import re

log = logging.getLogger(__name__)


# --------------------------------------------------------------------------
# Lexical resources
# --------------------------------------------------------------------------

# fmt: off
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
# fmt: on

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

# fmt: off
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
# fmt: on
_FOOTER_RE = re.compile(
    r"all rights reserved|todos los derechos reservados|alle rechte vorbehalten|tous droits reserves"
    r"|tutti i diritti riservati|todos os direitos reservados|^©|^\(c\) ?\d{4}|^copyright\b"
)

# fmt: off
_AD_MARKERS = frozenset({
    "advertisement", "advertising", "publicidad", "anzeige", "werbung", "publicite", "pubblicita",
    "sponsored", "ad", "ads", "ad image", "story continues", "story continues below",
    "story continues below advertisement", "article continues below", "continue reading below",
    "scroll to continue", "advertisement scroll to continue",
})
# fmt: on

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
_NOT_AUTHOR_RE = re.compile(
    r"^(?:fact[- ]checked|reviewed|edited|medically reviewed|photos?|illustrations?) by", re.IGNORECASE
)
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

# fmt: off
_JOIN_FUNCTION_WORDS = frozenset(
    "the a an of by to from than with like as and or el la los las del der die das le les des du".split()
)
# fmt: on
_QUOTES_OPEN = "\"'“”‘’«„‚"

# Weighted budget of non-prose lines allowed between two prose lines of one cluster.
_MAX_GAP = 3.0
# Larger budgets used when merging whole clusters (small clusters need to be closer).
_MERGE_GAP_ANY = 6.0
_MERGE_GAP_BIG = 12.0
_MERGE_BIG_WORDS = 30
# Markdown/emphasis regexes are only tried on lines up to this length (bounds backtracking).
_MAX_MARKUP_LINE = 1000
