//! pest pairs → [`Expr`]. The only file that names pest's `Rule`.

use pest::iterators::Pair;
use pest::Parser as _;

use super::ast::*;
use crate::dialect::Dialect;
use crate::error::{ErrorKind, Span};

#[derive(pest_derive::Parser)]
#[grammar = "grammar.pest"]
struct Grammar;

type PResult<T> = Result<T, (ErrorKind, Span)>;

/// Scanner buffer limits of the two dialects.
const MAX_LITERAL_24: usize = 8191;
const MAX_LITERAL_22: usize = 2047;

/// Parses `src`. When a 2.2 expression fails the grammar, `is_24(src)`
/// says whether it is 2.4 syntax (so the error can say so): the caller
/// runs that second parse within the 2.4 limits.
pub(super) fn parse(
    src: &str,
    dialect: Dialect,
    is_24: impl FnOnce(&str) -> bool,
) -> PResult<Expr> {
    if src.trim_matches([' ', '\t', '\n']).is_empty() {
        return Err((ErrorKind::Empty, Span::new(0, src.len())));
    }
    let root = match dialect {
        Dialect::V24 => Rule::root24,
        Dialect::V22 => Rule::root22,
    };
    let mut pairs = Grammar::parse(root, src).map_err(|e| {
        let (kind, span) = syntax_error(src, e);
        // 2.4 syntax in a 2.2 expression: say so rather than "expected …".
        if dialect == Dialect::V22 && is_24(src) {
            let token = src[span.start..]
                .split([' ', '\t', '\n'])
                .next()
                .unwrap_or("");
            let construct = if token.is_empty() {
                "the end of this expression".into()
            } else {
                format!("`{token}`")
            };
            return (ErrorKind::Dialect24Only { construct }, span);
        }
        (kind, span)
    })?;
    let root = pairs.next().expect("root rule");
    let expr = root.into_inner().next().expect("expression");
    Builder { dialect }.expr(expr)
}

/// Whether `src` matches the 2.4 grammar. Run it only on text that passed
/// the 2.4 nesting scan: pest recurses per level.
pub(super) fn matches_24(src: &str) -> bool {
    Grammar::parse(Rule::root24, src).is_ok()
}

/// The children of `p` without the punctuation rules.
fn children<'i>(p: Pair<'i, Rule>) -> impl Iterator<Item = Pair<'i, Rule>> {
    p.into_inner().filter(|c| {
        !matches!(
            c.as_rule(),
            Rule::lparen | Rule::rparen | Rule::lbrace | Rule::rbrace | Rule::comma | Rule::dot
        )
    })
}

/// The pair's span, without the blanks pest's implicit whitespace may
/// have taken after its last token.
fn span(p: &Pair<'_, Rule>) -> Span {
    let s = p.as_span();
    let text = p.as_str().trim_end_matches([' ', '\t', '\n']);
    Span::new(s.start(), s.start() + text.len())
}

struct Builder {
    dialect: Dialect,
}

impl Builder {
    fn max_literal(&self) -> usize {
        match self.dialect {
            Dialect::V24 => MAX_LITERAL_24,
            Dialect::V22 => MAX_LITERAL_22,
        }
    }

    /// `expr*` / `and*`: n-ary chains, built without recursion per operand.
    fn expr(&self, p: Pair<'_, Rule>) -> PResult<Expr> {
        let sp = span(&p);
        let is_or = matches!(p.as_rule(), Rule::expr24 | Rule::expr22);
        let is_and = matches!(p.as_rule(), Rule::and24 | Rule::and22);
        if is_or || is_and {
            let mut items = Vec::new();
            for child in children(p) {
                if matches!(child.as_rule(), Rule::or_op | Rule::and_op) {
                    continue;
                }
                items.push(self.expr(child)?);
            }
            if items.len() == 1 {
                return Ok(items.pop().expect("one item"));
            }
            let kind = if is_or {
                ExprKind::Or(items)
            } else {
                ExprKind::And(items)
            };
            return Ok(Expr { kind, span: sp });
        }
        match p.as_rule() {
            Rule::unary24 | Rule::unary22 => {
                let mut nots = Vec::new();
                let mut inner = None;
                for child in children(p) {
                    if child.as_rule() == Rule::not_op {
                        nots.push(span(&child).start);
                    } else {
                        inner = Some(self.expr(child)?);
                    }
                }
                let mut e = inner.expect("operand of unary");
                for start in nots.into_iter().rev() {
                    let s = Span::new(start, e.span.end);
                    e = Expr {
                        kind: ExprKind::Not(Box::new(e)),
                        span: s,
                    };
                }
                Ok(e)
            }
            Rule::true_kw => Ok(Expr {
                kind: ExprKind::Bool(true),
                span: sp,
            }),
            Rule::false_kw => Ok(Expr {
                kind: ExprKind::Bool(false),
                span: sp,
            }),
            Rule::unary_test24 => {
                let mut it = p.into_inner();
                let op = it.next().expect("unary op");
                let arg = self.word(it.next().expect("unary arg"))?;
                let op = Name {
                    name: op.as_str()[1..].to_string(),
                    span: span(&op),
                };
                Ok(Expr {
                    kind: ExprKind::Unary { op, arg },
                    span: sp,
                })
            }
            Rule::cond24 | Rule::cond22 => self.cond(p, sp),
            r => unreachable!("unexpected rule {r:?} in expression"),
        }
    }

    fn cond(&self, p: Pair<'_, Rule>, sp: Span) -> PResult<Expr> {
        let mut it = p.into_inner();
        let lhs = self.word(it.next().expect("lhs"))?;
        let tail = it.next().expect("condition tail");
        let mut t = tail.clone().into_inner();
        let op = t.next().expect("operator");
        let kind = match tail.as_rule() {
            Rule::match_tail24 | Rule::match_tail22 => {
                let negated = op.as_rule() == Rule::nomatch_op;
                let regex = self.regex(t.next().expect("regex"))?;
                ExprKind::Match {
                    lhs,
                    regex,
                    negated,
                }
            }
            Rule::cmp_tail24 | Rule::cmp_tail22 => {
                let cmp = match op.as_rule() {
                    Rule::op_eq24 | Rule::op_eq22 => CmpOp::Eq,
                    Rule::op_ne24 | Rule::op_ne22 => CmpOp::Ne,
                    Rule::op_lt24 | Rule::op_lt22 => CmpOp::Lt,
                    Rule::op_le24 | Rule::op_le22 => CmpOp::Le,
                    Rule::op_gt24 | Rule::op_gt22 => CmpOp::Gt,
                    Rule::op_ge24 | Rule::op_ge22 => CmpOp::Ge,
                    r => unreachable!("comparison {r:?}"),
                };
                let rhs = self.word(t.next().expect("rhs"))?;
                ExprKind::Cmp { op: cmp, lhs, rhs }
            }
            Rule::in_tail24 | Rule::in_tail22 => {
                let list = t.next().expect("list");
                let list = match list.as_rule() {
                    Rule::word_list24 | Rule::word_list22 => List::Words(
                        children(list)
                            .map(|w| self.word(w))
                            .collect::<PResult<_>>()?,
                    ),
                    Rule::list_call24 | Rule::oid_list22 => {
                        let mut l = children(list);
                        let name = l.next().expect("list function");
                        let name = Name {
                            name: name.as_str().to_string(),
                            span: span(&name),
                        };
                        let arg = Box::new(self.word(l.next().expect("list argument"))?);
                        List::Func { name, arg }
                    }
                    r => unreachable!("list {r:?}"),
                };
                ExprKind::In { lhs, list }
            }
            Rule::binary_tail24 => {
                let name = Name {
                    name: op.as_str()[1..].to_string(),
                    span: span(&op),
                };
                let rhs = self.word(t.next().expect("rhs"))?;
                ExprKind::Binary { op: name, lhs, rhs }
            }
            r => unreachable!("condition {r:?}"),
        };
        Ok(Expr { kind, span: sp })
    }

    fn regex(&self, p: Pair<'_, Rule>) -> PResult<Regex> {
        let text = p.as_str();
        let delim = if text.starts_with('/') {
            '/'
        } else {
            text[1..].chars().next().expect("delimiter")
        };
        let mut pattern = None;
        let mut icase = false;
        for child in p.into_inner() {
            match child.as_rule() {
                Rule::regex_body | Rule::regex_body_slash => pattern = Some(child),
                Rule::regex_icase => icase = true,
                _ => {}
            }
        }
        let body = pattern.expect("regex body");
        let sp = span(&body);
        if self.dialect == Dialect::V24 && body.as_str().len() > MAX_LITERAL_24 {
            return Err((
                ErrorKind::RegexTooLong {
                    limit: MAX_LITERAL_24,
                },
                sp,
            ));
        }
        Ok(Regex {
            pattern: body.as_str().to_string(),
            icase,
            delim,
            span: sp,
        })
    }

    fn word(&self, p: Pair<'_, Rule>) -> PResult<Word> {
        let sp = span(&p);
        let kind = match p.as_rule() {
            Rule::word24 => {
                let mut parts: Vec<Word> =
                    children(p).map(|a| self.word(a)).collect::<PResult<_>>()?;
                if parts.len() == 1 {
                    return Ok(parts.pop().expect("one part"));
                }
                WordKind::Concat(parts)
            }
            Rule::digits24 | Rule::digits22 => WordKind::Digits(p.as_str().to_string()),
            Rule::dq_string24 | Rule::sq_string24 | Rule::dq_string22 => {
                WordKind::Str(self.str_parts(p)?)
            }
            Rule::var24 => WordKind::Var(self.var24(p)?),
            Rule::var22 => {
                let name = children(p).next().expect("name");
                let text = name.as_str();
                let reserved = matches!(
                    text,
                    "true" | "false" | "and" | "or" | "not" | "eq" | "ne" | "lt" | "le" | "gt"
                        | "ge" | "in" | "file"
                ) || text.eq_ignore_ascii_case("oid")
                    // flex prefers the `m<delim>` regex rule at equal length.
                    || (text.starts_with('m') && text.len() <= 2);
                if reserved {
                    return Err((
                        ErrorKind::VarNameReserved {
                            name: text.to_string(),
                        },
                        sp,
                    ));
                }
                WordKind::Var(VarRef::Name(Name {
                    name: text.to_string(),
                    span: span(&name),
                }))
            }
            Rule::backref => WordKind::Backref(p.as_str().as_bytes()[1] - b'0'),
            Rule::call24 | Rule::file22 => {
                let mut it = children(p);
                let name = it.next().expect("function name");
                let name = Name {
                    name: name.as_str().to_string(),
                    span: span(&name),
                };
                let arg = Box::new(self.word(it.next().expect("argument"))?);
                WordKind::Call { name, arg }
            }
            r => unreachable!("word {r:?}"),
        };
        Ok(Word { kind, span: sp })
    }

    fn var24(&self, p: Pair<'_, Rule>) -> PResult<VarRef> {
        let mut it = p.into_inner();
        let name = it.next().expect("variable name");
        let name = Name {
            name: name.as_str().to_string(),
            span: span(&name),
        };
        Ok(match it.next() {
            None => VarRef::Name(name),
            Some(arg) => VarRef::Func {
                name,
                arg: self.str_parts(arg)?,
            },
        })
    }

    /// The pieces of a string or `%{func:arg}` body, escapes decoded and
    /// adjacent literal bytes merged.
    fn str_parts(&self, p: Pair<'_, Rule>) -> PResult<Vec<StrPart>> {
        let mut parts: Vec<StrPart> = Vec::new();
        // Apache's scanner buffer holds one literal piece between
        // interpolations; it counts decoded bytes.
        let mut run = 0usize;
        let mut run_start = span(&p).start;
        let limit = self.max_literal();
        for child in p.into_inner() {
            let sp = span(&child);
            let lit: Vec<u8> = match child.as_rule() {
                Rule::dq_text24 | Rule::sq_text24 | Rule::dq_text22 | Rule::var_text24 => {
                    child.as_str().as_bytes().to_vec()
                }
                Rule::escape => match decode_escape(child.as_str()) {
                    Ok(b) => b,
                    Err(kind) if self.dialect == Dialect::V22 => {
                        // mod_ssl 2.2: a soft error; the escape contributes
                        // nothing and every evaluation fails.
                        let _ = kind;
                        parts.push(StrPart::BadEscape(child.as_str().to_string()));
                        continue;
                    }
                    Err(kind) => return Err((kind, sp)),
                },
                Rule::var24 => {
                    parts.push(StrPart::Var(self.var24(child)?));
                    run = 0;
                    continue;
                }
                Rule::backref => {
                    parts.push(StrPart::Backref(child.as_str().as_bytes()[1] - b'0'));
                    run = 0;
                    continue;
                }
                r => unreachable!("string piece {r:?}"),
            };
            if run == 0 {
                run_start = sp.start;
            }
            run += lit.len();
            if run > limit {
                return Err((
                    ErrorKind::StringTooLong { limit },
                    Span::new(run_start, sp.end),
                ));
            }
            match parts.last_mut() {
                Some(StrPart::Lit(prev)) => prev.extend_from_slice(&lit),
                _ => parts.push(StrPart::Lit(lit)),
            }
        }
        Ok(parts)
    }
}

/// Decodes one `\…` escape (the text includes the backslash).
pub(crate) fn decode_escape(text: &str) -> Result<Vec<u8>, ErrorKind> {
    let rest = &text.as_bytes()[1..];
    if rest.first().is_some_and(u8::is_ascii_digit) {
        if rest.len() > 3 || rest.iter().any(|&d| d > b'7') {
            return Err(ErrorKind::EscapeBad);
        }
        let v = rest.iter().fold(0u32, |v, &d| v * 8 + u32::from(d - b'0'));
        return u8::try_from(v)
            .map(|b| vec![b])
            .map_err(|_| ErrorKind::EscapeOutOfBound);
    }
    Ok(match rest {
        b"n" => vec![b'\n'],
        b"r" => vec![b'\r'],
        b"t" => vec![b'\t'],
        b"b" => vec![0x08],
        b"f" => vec![0x0c],
        // Any other character stands for itself (all its bytes, when it is
        // a multi-byte UTF-8 character).
        other => other.to_vec(),
    })
}

/// Turns pest's error into ours: what was expected, what was found, where.
fn syntax_error(src: &str, e: pest::error::Error<Rule>) -> (ErrorKind, Span) {
    use pest::error::{ErrorVariant, InputLocation};
    let pos = match e.location {
        InputLocation::Pos(p) => p,
        InputLocation::Span((s, _)) => s,
    };
    let expected = match &e.variant {
        ErrorVariant::ParsingError { positives, .. } => describe(positives),
        ErrorVariant::CustomError { message } => message.clone(),
    };
    let rest = &src[pos..];
    let found = match rest.chars().next() {
        None => "end of input".to_string(),
        Some(_) => {
            let token: String = rest
                .chars()
                .take_while(|c| !matches!(c, ' ' | '\t' | '\n'))
                .take(20)
                .collect();
            format!("`{token}`")
        }
    };
    let end = pos + rest.chars().next().map_or(0, char::len_utf8);
    (ErrorKind::Syntax { expected, found }, Span::new(pos, end))
}

fn describe(rules: &[Rule]) -> String {
    let mut names: Vec<&str> = Vec::new();
    for r in rules {
        let name = match r {
            Rule::EOI => "end of input",
            Rule::or_op => "`||`/`or`",
            Rule::and_op => "`&&`/`and`",
            Rule::not_op => "`!`",
            Rule::true_kw | Rule::false_kw => "an expression",
            Rule::expr24 | Rule::expr22 | Rule::and24 | Rule::and22 => "an expression",
            Rule::unary24 | Rule::unary22 | Rule::unary_test24 => "an expression",
            Rule::cond24 | Rule::cond22 => "an expression",
            Rule::match_op | Rule::nomatch_op => "an operator",
            Rule::op_eq24 | Rule::op_ne24 | Rule::op_lt24 | Rule::op_le24 => "an operator",
            Rule::op_gt24 | Rule::op_ge24 | Rule::in_op24 | Rule::binary_op => "an operator",
            Rule::op_eq22 | Rule::op_ne22 | Rule::op_lt22 | Rule::op_le22 => "an operator",
            Rule::op_gt22 | Rule::op_ge22 | Rule::in_op22 | Rule::unary_op => "an operator",
            Rule::regex24 | Rule::regex22 => "a regex (m/…/)",
            Rule::word24 | Rule::digits24 | Rule::digits22 | Rule::dq_string24 => {
                "a word (string, number, %{VAR}, function call)"
            }
            Rule::sq_string24 | Rule::dq_string22 | Rule::var24 | Rule::var22 => {
                "a word (string, number, %{VAR}, function call)"
            }
            Rule::backref | Rule::call24 | Rule::file22 | Rule::ident => {
                "a word (string, number, %{VAR}, function call)"
            }
            Rule::word_list24 | Rule::word_list22 | Rule::list_call24 | Rule::oid_list22 => {
                "a list ({…} or a list function)"
            }
            Rule::var_name24 | Rule::var_name22 => "a variable name",
            Rule::var_arg24 | Rule::var_text24 => "an argument after `:` (it cannot be empty)",
            Rule::rbrace => "`}`",
            Rule::lparen => "`(`",
            Rule::rparen => "`)`",
            Rule::lbrace => "`{`",
            Rule::comma => "`,`",
            Rule::dot => "`.`",
            Rule::regex_icase => "`i` or the end of the regex",
            _ => continue,
        };
        if !names.contains(&name) {
            names.push(name);
        }
    }
    match names.len() {
        0 => "something else".to_string(),
        1 => names[0].to_string(),
        _ => {
            let last = names.pop().expect("non-empty");
            format!("{} or {last}", names.join(", "))
        }
    }
}
