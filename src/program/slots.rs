//! The fastest environment: values laid out in one program's variable
//! slots, from borrowed data.
//!
//! A proxy knows, at start-up, which variables it supplies (say twenty:
//! `SSL_CIPHER`, `SSL_CLIENT_S_DN_CN`, `REMOTE_ADDR` …) and which program it
//! evaluates. [`Program::layout`](crate::Program::layout) matches the two
//! once; per request, [`Layout::bind`] places the borrowed values in slot
//! order (no allocation for programs reading up to 16 variables, no hashing,
//! no copies), and the virtual machine reads slot `i` directly.

use smallvec::SmallVec;

use super::Program;
use crate::env::{Env, Var};
use crate::error::Error;
use crate::vm::{Machine, Untraced, Vars};

/// Which input feeds which slot of one program; built once.
#[derive(Clone, Debug)]
pub struct Layout {
    program: u64,
    /// For input i, the slot it fills (None: the program does not read it).
    inputs: Vec<Option<u32>>,
    slots: usize,
}

/// One request's values, by slot of one program.
#[derive(Debug)]
pub struct Slots<'a> {
    program: &'a Program,
    values: SmallVec<[Option<&'a [u8]>; 16]>,
}

/// [`Layout::bind`] was given a program other than the one the layout
/// was made for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LayoutMismatch;

impl std::fmt::Display for LayoutMismatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("this layout was made for another program (Program::layout)")
    }
}

impl std::error::Error for LayoutMismatch {}

impl Layout {
    pub(super) fn new(program: u64, inputs: Vec<Option<u32>>, slots: usize) -> Layout {
        Layout {
            program,
            inputs,
            slots,
        }
    }

    /// Places `values` (in the order of the names given to
    /// [`Program::layout`]) in `program`'s slots.
    ///
    /// # Errors
    /// `program` is not the one this layout was made for.
    pub fn bind<'a>(
        &self,
        program: &'a Program,
        values: &[&'a [u8]],
    ) -> Result<Slots<'a>, LayoutMismatch> {
        if program.id() != self.program {
            return Err(LayoutMismatch);
        }
        let mut slots: SmallVec<[Option<&'a [u8]>; 16]> = SmallVec::from_elem(None, self.slots);
        for (input, value) in self.inputs.iter().zip(values) {
            if let Some(slot) = input {
                slots[*slot as usize] = Some(value);
            }
        }
        Ok(Slots {
            program,
            values: slots,
        })
    }
}

impl<'a> Slots<'a> {
    /// Evaluates the program these values were bound for, reading each
    /// variable by its slot: `Ok(true)` allows, `Ok(false)` denies.
    ///
    /// # Errors
    /// An evaluation error (E3xx), which means deny, as
    /// [`Program::eval`].
    pub fn eval_with(&self, machine: &mut Machine) -> Result<bool, Error> {
        let program = self.program;
        program
            .code
            .run(machine, self, &mut Untraced)
            .map_err(|(kind, span)| program.error(kind, span))
    }

    /// Whether to allow, as [`Program::allows`]: an evaluation error
    /// denies and is handed to `on_error`.
    pub fn allows(&self, machine: &mut Machine, on_error: impl FnOnce(&Error)) -> bool {
        self.eval_with(machine).unwrap_or_else(|e| {
            on_error(&e);
            false
        })
    }
}

/// Any program may read these values by name (the bound program reads
/// them by slot through [`Slots::eval_with`]).
impl Env for Slots<'_> {
    fn var(&self, var: &Var) -> Option<&[u8]> {
        let slot = self.program.vars().iter().position(|v| v == var)?;
        self.values[slot]
    }
}

impl Vars for Slots<'_> {
    type Env = Self;
    fn env(&self) -> &Self {
        self
    }
    /// Only [`Slots::eval_with`] reads through this, and it runs the
    /// program the values were bound for: slot `slot` is the value.
    #[inline]
    fn var(&self, slot: u32, _: &[Var]) -> Option<&[u8]> {
        self.values.get(slot as usize).copied().flatten()
    }
}

#[cfg(test)]
mod tests {
    use crate::{Machine, Program};

    #[test]
    fn bound_values_reach_their_slots() {
        let p = Program::new(
            r#"%{SSL_CLIENT_VERIFY} eq "SUCCESS" and %{SSL_CLIENT_S_DN_CN} eq "alice""#,
        )
        .unwrap();
        let layout = p
            .layout(&["REMOTE_ADDR", "ssl_client_S_DN_CN", "SSL_CLIENT_VERIFY"])
            .unwrap();
        let mut m = Machine::new();
        let env = layout
            .bind(&p, &[b"10.0.0.1", b"alice", b"SUCCESS"])
            .unwrap();
        assert!(p.eval_with(&mut m, &env).unwrap());
        let env = layout.bind(&p, &[b"10.0.0.1", b"bob", b"SUCCESS"]).unwrap();
        assert!(!p.eval_with(&mut m, &env).unwrap());
        // Another program reading the same environment falls back to names.
        let q = Program::new(r#"%{SSL_CLIENT_S_DN_CN} eq "bob""#).unwrap();
        assert!(q.eval_with(&mut m, &env).unwrap());
        assert!(p.layout(&["NO_SUCH"]).is_err());
        // Binding another program's layout is an error, not a panic.
        assert!(matches!(layout.bind(&q, &[]), Err(super::LayoutMismatch)));
    }
}
