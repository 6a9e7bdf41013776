//! RFC 7009 token revocation.

use super::token::{vendor_error, Op};
use super::Client;
use crate::http::Http;
use crate::secret::{ExposeSecret, SecretString};
use crate::Result;

/// A 200 means done (even for a token the server did not know).
pub(crate) async fn revoke(
    http: &Http,
    vendor: &'static str,
    url: &str,
    client: &Client<'_>,
    token: &SecretString,
    hint: &str,
) -> Result<()> {
    let mut form = vec![("token", token.expose_secret()), ("token_type_hint", hint)];
    let basic = client.apply(&mut form);
    let reply = http.post_form(url, &form, basic).await?;
    if reply.is_success() {
        Ok(())
    } else {
        Err(vendor_error(vendor, Op::Revoke, &reply))
    }
}
