//! `GET /openapi.json`, Swagger UI at `/docs` and ReDoc at `/redoc`.
//!
//! Both UIs are vendored (`assets/`, see `scripts/vendor_docs_assets.sh`)
//! and embedded in the binary: deployments are often offline, so the pages
//! load nothing from elsewhere, and their Content-Security-Policy forbids it.
//! Asset URLs carry a hash of the content (`?v=…`), so the assets can be
//! cached as immutable while the pages themselves are revalidated.

use std::sync::OnceLock;

use bytes::Bytes;
use http::{HeaderValue, header};
use warp::Filter;
use warp::filters::BoxedFilter;
use warp::reply::Response;

use crate::error::{ApiError, Surface};

/// An embedded file.
struct Asset {
    name: &'static str,
    content_type: &'static str,
    bytes: &'static [u8],
}

/// Every file under `/docs/assets/`.
const ASSETS: &[Asset] = &[
    Asset {
        name: "swagger-ui-bundle.js",
        content_type: "text/javascript; charset=utf-8",
        bytes: include_bytes!("../../assets/swagger-ui/swagger-ui-bundle.js"),
    },
    Asset {
        name: "swagger-ui.css",
        content_type: "text/css; charset=utf-8",
        bytes: include_bytes!("../../assets/swagger-ui/swagger-ui.css"),
    },
    Asset {
        name: "favicon-32x32.png",
        content_type: "image/png",
        bytes: include_bytes!("../../assets/swagger-ui/favicon-32x32.png"),
    },
    Asset {
        name: "swagger-init.js",
        content_type: "text/javascript; charset=utf-8",
        bytes: include_bytes!("../../assets/swagger-init.js"),
    },
    Asset {
        name: "redoc.standalone.js",
        content_type: "text/javascript; charset=utf-8",
        bytes: include_bytes!("../../assets/redoc/redoc.standalone.js"),
    },
    Asset {
        name: "redoc-init.js",
        content_type: "text/javascript; charset=utf-8",
        bytes: include_bytes!("../../assets/redoc-init.js"),
    },
    // The licences travel with the code they cover.
    Asset {
        name: "swagger-ui-LICENSE.txt",
        content_type: "text/plain; charset=utf-8",
        bytes: include_bytes!("../../assets/swagger-ui/LICENSE"),
    },
    Asset {
        name: "swagger-ui-NOTICE.txt",
        content_type: "text/plain; charset=utf-8",
        bytes: include_bytes!("../../assets/swagger-ui/NOTICE"),
    },
    Asset {
        name: "swagger-ui-bundle.js.LICENSE.txt",
        content_type: "text/plain; charset=utf-8",
        bytes: include_bytes!("../../assets/swagger-ui/swagger-ui-bundle.js.LICENSE.txt"),
    },
    Asset {
        name: "redoc-LICENSE.txt",
        content_type: "text/plain; charset=utf-8",
        bytes: include_bytes!("../../assets/redoc/LICENSE"),
    },
    Asset {
        name: "redoc.standalone.js.LICENSE.txt",
        content_type: "text/plain; charset=utf-8",
        bytes: include_bytes!("../../assets/redoc/redoc.standalone.js.LICENSE.txt"),
    },
];

/// Scripts and styles from this server only. Swagger UI and ReDoc set inline
/// styles, ReDoc runs its search index in a `blob:` worker, and both draw
/// `data:` images; nothing may be fetched from another origin.
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
                   img-src 'self' data:; font-src 'self' data:; worker-src 'self' blob:; \
                   connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'self'";

/// The first 16 hex digits of the asset's SHA-256: its cache-busting version.
fn version(a: &Asset) -> String {
    use sha2::Digest as _;
    let digest = sha2::Sha256::digest(a.bytes);
    digest[..8].iter().map(|b| format!("{b:02x}")).collect()
}

fn asset(name: &str) -> Option<&'static Asset> {
    ASSETS.iter().find(|a| a.name == name)
}

/// `docs/assets/<name>?v=<hash>`, relative so the pages work under a path prefix.
fn asset_url(name: &str) -> String {
    match asset(name) {
        Some(a) => format!("docs/assets/{}?v={}", a.name, version(a)),
        None => format!("docs/assets/{name}"),
    }
}

fn swagger_page() -> &'static str {
    static PAGE: OnceLock<String> = OnceLock::new();
    PAGE.get_or_init(|| {
        let css = format!(
            r#"<link rel="stylesheet" href="{}">"#,
            asset_url("swagger-ui.css")
        );
        page_html(
            "Swagger UI",
            &css,
            "swagger-ui",
            "swagger-ui-bundle.js",
            "swagger-init.js",
        )
    })
}

fn redoc_page() -> &'static str {
    static PAGE: OnceLock<String> = OnceLock::new();
    PAGE.get_or_init(|| {
        let style = "<style>body { margin: 0; padding: 0; }</style>";
        page_html(
            "ReDoc",
            style,
            "redoc",
            "redoc.standalone.js",
            "redoc-init.js",
        )
    })
}

/// A documentation page: its `head` extra, the element the viewer renders
/// into, and the viewer's bundle and init script (no inline script, so the
/// Content-Security-Policy can forbid them).
fn page_html(title: &str, head: &str, root: &str, bundle: &str, init: &str) -> String {
    format!(
        r#"<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>IndoxRouter API — {title}</title>
{head}
<link rel="icon" type="image/png" href="{icon}">
</head>
<body>
<div id="{root}"></div>
<script src="{bundle}"></script>
<script src="{init}"></script>
</body>
</html>
"#,
        icon = asset_url("favicon-32x32.png"),
        bundle = asset_url(bundle),
        init = asset_url(init),
    )
}

fn respond(body: Bytes, content_type: &'static str, cache: &'static str) -> Response {
    let mut resp = Response::new(body.into());
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    resp
}

fn page(html: &'static str) -> Response {
    let mut resp = respond(
        Bytes::from_static(html.as_bytes()),
        "text/html; charset=utf-8",
        // Revalidated on every load, so an upgraded server's pages (and the
        // asset hashes in them) are seen at once.
        "no-cache",
    );
    resp.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    resp
}

/// The routes; all public.
pub(super) fn routes() -> BoxedFilter<(Response,)> {
    let spec = warp::path!("openapi.json").and(warp::get()).map(|| {
        respond(
            Bytes::from_static(crate::openapi::document_bytes()),
            "application/json",
            "no-cache",
        )
    });
    let swagger = warp::path!("docs")
        .and(warp::get())
        .map(|| page(swagger_page()));
    let redoc = warp::path!("redoc")
        .and(warp::get())
        .map(|| page(redoc_page()));
    let assets = warp::path!("docs" / "assets" / String)
        .and(warp::get())
        .map(|name: String| match asset(&name) {
            // The URL carries the content hash, so a year is safe.
            Some(a) => respond(
                Bytes::from_static(a.bytes),
                a.content_type,
                "public, max-age=31536000, immutable",
            ),
            None => {
                let r = ApiError::not_found(format!("no documentation asset `{name}`"))
                    .response(Surface::Classic, None);
                let (parts, body) = r.into_parts();
                Response::from_parts(parts, body.into())
            }
        });
    spec.or(swagger)
        .unify()
        .or(redoc)
        .unify()
        .or(assets)
        .unify()
        .boxed()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_reference_only_local_assets_that_exist() {
        for page in [swagger_page(), redoc_page()] {
            assert!(!page.contains("http:") && !page.contains("https:") && !page.contains("//"));
            for (i, _) in page.match_indices("docs/assets/") {
                let rest = &page[i + "docs/assets/".len()..];
                let name = &rest[..rest.find('?').unwrap()];
                assert!(asset(name).is_some(), "{name}");
            }
        }
        for init in ["swagger-init.js", "redoc-init.js"] {
            let text = std::str::from_utf8(asset(init).unwrap().bytes).unwrap();
            assert!(!text.contains("http"), "{init} loads nothing remote");
        }
    }
}
