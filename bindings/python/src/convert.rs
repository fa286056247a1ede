//! Python values ⇄ JSON values ⇄ the core's serde types.
//!
//! Requests go Python → `serde_json::Value` → core type, so plain dicts in
//! the OpenAI SDK's shapes (messages, tools, `response_format`, vision parts)
//! are accepted exactly as the core's serde accepts them. Results go core
//! type → `Value` → dicts and lists; money becomes `decimal.Decimal`.

use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Number, Value};

use crate::errors::invalid;

static DECIMAL: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

/// Nesting deeper than this is refused rather than overflowing the stack.
const MAX_DEPTH: usize = 128;

/// Keys whose values are money: exact USD decimal strings in the core's JSON.
const MONEY_KEYS: [&str; 4] = ["cost", "pricing", "balance", "available"];
/// Strings inside a money value that are not amounts (image price tiers).
const NOT_MONEY: [&str; 2] = ["quality", "size"];

/// Converts a Python request (dict of OpenAI-shaped fields) into a core type.
pub(crate) fn request<T: DeserializeOwned>(py: Python<'_>, obj: &Bound<'_, PyAny>) -> PyResult<T> {
    let value = to_json(obj, 0)?;
    serde_json::from_value(value).map_err(|e| invalid(py, e.to_string()))
}

/// Converts a Python value to JSON. Beyond the JSON types it accepts tuples,
/// and objects with `to_dict()` (this package's results, e.g. a returned
/// message sent back in the next turn) or `model_dump()` (pydantic models
/// such as the OpenAI SDK's).
pub(crate) fn to_json(obj: &Bound<'_, PyAny>, depth: usize) -> PyResult<Value> {
    if depth > MAX_DEPTH {
        return Err(PyTypeError::new_err("value is nested too deeply"));
    }
    if obj.is_none() {
        return Ok(Value::Null);
    }
    if let Ok(s) = obj.cast::<PyString>() {
        return Ok(Value::String(s.to_cow()?.into_owned()));
    }
    // bool before int: Python's bool is an int.
    if let Ok(b) = obj.cast::<PyBool>() {
        return Ok(Value::Bool(b.is_true()));
    }
    if let Ok(i) = obj.cast::<PyInt>() {
        if let Ok(v) = i.extract::<i64>() {
            return Ok(Value::Number(v.into()));
        }
        let v: u64 = i.extract()?;
        return Ok(Value::Number(v.into()));
    }
    if let Ok(f) = obj.cast::<PyFloat>() {
        return Number::from_f64(f.value())
            .map(Value::Number)
            .ok_or_else(|| PyTypeError::new_err("NaN and infinity are not valid JSON numbers"));
    }
    if let Ok(d) = obj.cast::<PyDict>() {
        let mut map = Map::with_capacity(d.len());
        for (k, v) in d.iter() {
            let key = k
                .cast::<PyString>()
                .map_err(|_| PyTypeError::new_err("dict keys must be strings"))?;
            map.insert(key.to_cow()?.into_owned(), to_json(&v, depth + 1)?);
        }
        return Ok(Value::Object(map));
    }
    if let Ok(l) = obj.cast::<PyList>() {
        return l.iter().map(|v| to_json(&v, depth + 1)).collect();
    }
    if let Ok(t) = obj.cast::<PyTuple>() {
        return t.iter().map(|v| to_json(&v, depth + 1)).collect();
    }
    for method in ["to_dict", "model_dump"] {
        if obj.hasattr(method)? {
            return to_json(&obj.call_method0(method)?, depth + 1);
        }
    }
    Err(PyTypeError::new_err(format!(
        "cannot send a {} to a provider; use dicts, lists, strings and numbers",
        obj.get_type().name()?
    )))
}

/// Converts a core result into plain Python values (dicts, lists, …).
pub(crate) fn result<T: Serialize>(py: Python<'_>, value: &T) -> PyResult<Py<PyAny>> {
    let json = serde_json::to_value(value).map_err(|e| invalid(py, e.to_string()))?;
    Ok(to_py(py, &json, false)?.unbind())
}

/// Converts a core amount (or breakdown of amounts) into `Decimal`s.
pub(crate) fn money_result<T: Serialize>(py: Python<'_>, value: &T) -> PyResult<Py<PyAny>> {
    let json = serde_json::to_value(value).map_err(|e| invalid(py, e.to_string()))?;
    Ok(to_py(py, &json, true)?.unbind())
}

/// JSON → Python. Inside a money value every string is an exact USD amount
/// and becomes a `Decimal`, never a float.
fn to_py<'py>(py: Python<'py>, value: &Value, money: bool) -> PyResult<Bound<'py, PyAny>> {
    Ok(match value {
        Value::Null => py.None().into_bound(py),
        Value::Bool(b) => PyBool::new(py, *b).to_owned().into_any(),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                i.into_pyobject(py)?.into_any()
            } else if let Some(u) = n.as_u64() {
                u.into_pyobject(py)?.into_any()
            } else {
                n.as_f64().unwrap_or(f64::NAN).into_pyobject(py)?.into_any()
            }
        }
        Value::String(s) if money => decimal(py, s)?,
        Value::String(s) => PyString::new(py, s).into_any(),
        Value::Array(items) => {
            let list = PyList::empty(py);
            for item in items {
                list.append(to_py(py, item, money)?)?;
            }
            list.into_any()
        }
        Value::Object(map) => {
            let dict = PyDict::new(py);
            for (k, v) in map {
                let is_money = if money {
                    !NOT_MONEY.contains(&k.as_str())
                } else {
                    MONEY_KEYS.contains(&k.as_str())
                };
                dict.set_item(k, to_py(py, v, is_money)?)?;
            }
            dict.into_any()
        }
    })
}

fn decimal<'py>(py: Python<'py>, s: &str) -> PyResult<Bound<'py, PyAny>> {
    let class = DECIMAL.get_or_try_init(py, || {
        py.import("decimal")?.getattr("Decimal").map(Bound::unbind)
    })?;
    class.bind(py).call1((s,))
}
