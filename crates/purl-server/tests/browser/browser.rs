//! A headless Chromium driven through `chromedriver` on a free port, closed when dropped.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;

/// The password `set_password` gives.
pub const PASSWORD: &str = "a long pass phrase for the pages";

/// Gives `username` a known password, as if they had changed their one-time password.
pub async fn set_password(server: &crate::support::Server, username: &str) {
    let app = &server.ctx.app;
    let once = app.issue_one_time_password(username).await.unwrap();
    app.change_password(&server.ctx.config.auth, username, &once, PASSWORD, None)
        .await
        .unwrap();
}

pub struct Browser {
    pub client: Client,
    driver: Child,
}

const DRIVER: &str = "chromedriver";
const CHROMIUM: &str = "/usr/bin/chromium";

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .expect("a free port")
}

impl Browser {
    /// A new browser session, or `None` (with the reason printed) when there is no
    /// `chromedriver` here and the browser tests are not required.
    pub async fn start() -> Option<Browser> {
        let port = free_port();
        let driver = Command::new(DRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn();
        let mut driver = match driver {
            Ok(driver) => driver,
            Err(error) => {
                assert!(
                    std::env::var("PURL_TEST_BROWSER").as_deref() != Ok("required"),
                    "PURL_TEST_BROWSER=required but {DRIVER} could not start: {error}"
                );
                use std::io::Write as _;
                let _ = writeln!(
                    std::io::stderr(),
                    "skipped: {DRIVER} could not start ({error}); install Debian's chromium and chromium-driver (CI does)"
                );
                return None;
            }
        };
        let mut capabilities = serde_json::Map::new();
        capabilities.insert(
            "goog:chromeOptions".into(),
            json!({
                "binary": CHROMIUM,
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu",
                         "--disable-dev-shm-usage", "--window-size=1280,900"],
            }),
        );
        let url = format!("http://127.0.0.1:{port}");
        let mut last_error = None;
        for _ in 0..50 {
            let connected =
                ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
                    .capabilities(capabilities.clone())
                    .connect(&url)
                    .await;
            match connected {
                Ok(client) => return Some(Browser { client, driver }),
                Err(error) => last_error = Some(error),
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let _ = driver.kill();
        panic!("the browser did not start: {last_error:?}");
    }

    /// Signs in at `base` as `username` with [`PASSWORD`] through the sign-in page.
    pub async fn sign_in(&self, base: &str, username: &str) {
        self.client.goto(&format!("{base}/sign-in")).await.unwrap();
        self.fill("username", username).await;
        self.fill("password", PASSWORD).await;
        self.press("Sign in").await;
        assert_eq!(self.path_after_navigation("/home").await, "/home");
    }

    /// The text of the whole page (empty while a page is still loading).
    pub async fn text(&self) -> String {
        match self.client.find(Locator::Css("body")).await {
            Ok(body) => body.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        }
    }

    /// The text of the page once it holds `needle` (waiting up to 5 s), or the text then.
    pub async fn text_with(&self, needle: &str) -> String {
        let mut text = String::new();
        for _ in 0..50 {
            text = self.text().await;
            if text.contains(needle) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        text
    }

    /// Fills the field labelled by `id` with `value`.
    pub async fn fill(&self, id: &str, value: &str) {
        let field = self.client.find(Locator::Id(id)).await.unwrap();
        field.clear().await.unwrap();
        field.send_keys(value).await.unwrap();
    }

    /// Presses the button whose text is `label`.
    pub async fn press(&self, label: &str) {
        self.click(&format!("//button[normalize-space()='{label}']"))
            .await;
    }

    /// The path of the page shown once it is `expected` (waiting up to 5 s for a navigation to
    /// end), or the path shown then.
    pub async fn path_after_navigation(&self, expected: &str) -> String {
        let mut path = String::new();
        for _ in 0..50 {
            path = self.client.current_url().await.unwrap().path().to_owned();
            let ready = self
                .client
                .execute("return document.readyState;", Vec::new())
                .await
                .unwrap();
            if path == expected && ready == "complete" {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        path
    }

    /// Chooses `value` in the drop-down list `id`.
    pub async fn choose(&self, id: &str, value: &str) {
        self.click(&format!("//select[@id='{id}']/option[@value='{value}']"))
            .await;
    }

    /// Presses the button named `label` for screen readers (a row's button).
    pub async fn press_named(&self, label: &str) {
        self.click(&format!("//button[@aria-label='{label}']"))
            .await;
    }

    /// Opens `path` of the server at `base` and waits for it.
    pub async fn open(&self, base: &str, path: &str) {
        self.client.goto(&format!("{base}{path}")).await.unwrap();
        self.path_after_navigation(path.split('?').next().unwrap_or(path))
            .await;
    }

    /// Fills the fields (`id`, value) of a form, presses `button` and returns the page's text once
    /// it holds `expected`.
    pub async fn submit(&self, fields: &[(&str, &str)], button: &str, expected: &str) -> String {
        for (id, value) in fields {
            self.fill(id, value).await;
        }
        self.press(button).await;
        self.text_with(expected).await
    }

    /// Clicks the element `css` selects.
    pub async fn click_css(&self, css: &str) {
        self.client
            .find(Locator::Css(css))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
    }

    /// Follows the link whose text is `label`.
    pub async fn follow(&self, label: &str) {
        self.click(&format!("//a[normalize-space()='{label}']"))
            .await;
    }

    async fn click(&self, xpath: &str) {
        self.client
            .find(Locator::XPath(xpath))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
    }

    /// Saves a screenshot of the whole page (the window grown to the page's height) as
    /// `target/screenshots/{name}.png`.
    pub async fn screenshot(&self, name: &str) -> PathBuf {
        let height = self
            .client
            .execute("return document.documentElement.scrollHeight;", Vec::new())
            .await
            .unwrap()
            .as_u64()
            .unwrap_or(900);
        let height = u32::try_from(height).unwrap_or(900).clamp(600, 8_000) + 120;
        self.client.set_window_size(1280, height).await.unwrap();
        let png = self.client.screenshot().await.unwrap();
        self.client.set_window_size(1280, 900).await.unwrap();
        let folder = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/screenshots");
        std::fs::create_dir_all(&folder).unwrap();
        let file = folder.join(format!("{name}.png"));
        std::fs::write(&file, png).unwrap();
        file
    }

    /// Ends the browser session (the driver stops when the browser is dropped).
    pub async fn close(self) {
        let _ = self.client.clone().close().await;
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}
