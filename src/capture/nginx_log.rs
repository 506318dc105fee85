//! nginx access-log lines written with [`NGINX_LOG_FORMAT`] (`escape=json`:
//! one JSON object per request, every value a string, `""` when unset).

use crate::session::SessionError;

/// The `log_format` to copy into nginx's `http {}` block (then
/// `access_log /var/log/nginx/sslrequire.log sslrequire;`). nginx gives the
/// client certificate only (no chain) and no server certificate.
pub const NGINX_LOG_FORMAT: &str = r#"log_format sslrequire escape=json '{"time":"$time_iso8601","status":"$status","REMOTE_ADDR":"$remote_addr","REMOTE_PORT":"$remote_port","SERVER_NAME":"$server_name","SERVER_PORT":"$server_port","THE_REQUEST":"$request","REQUEST_METHOD":"$request_method","REQUEST_URI":"$uri","QUERY_STRING":"$args","SERVER_PROTOCOL":"$server_protocol","REQUEST_FILENAME":"$request_filename","REMOTE_USER":"$remote_user","http:Host":"$http_host","http:User-Agent":"$http_user_agent","http:Referer":"$http_referer","http:Accept":"$http_accept","SSL_TLS_SNI":"$ssl_server_name","SSL_PROTOCOL":"$ssl_protocol","SSL_CIPHER":"$ssl_cipher","SSL_SESSION_ID":"$ssl_session_id","SSL_SESSION_RESUMED":"$ssl_session_reused","SSL_CLIENT_VERIFY":"$ssl_client_verify","ssl_client_escaped_cert":"$ssl_client_escaped_cert"}';"#;

/// The `(name, value)` pairs of one line.
///
/// # Errors
/// Not a JSON object of strings.
pub(super) fn fields(line: &str) -> Result<Vec<(String, Vec<u8>)>, SessionError> {
    let map: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(line).map_err(|e| SessionError {
            field: "(json)".into(),
            message: format!(
                "{e}; expected one JSON object per line (nginx log_format … escape=json, see the README)"
            ),
        })?;
    map.into_iter()
        .map(|(k, v)| match v {
            serde_json::Value::String(s) => Ok((k, s.into_bytes())),
            other => Err(SessionError {
                message: format!("expected a string, found {other}"),
                field: k,
            }),
        })
        .collect()
}
