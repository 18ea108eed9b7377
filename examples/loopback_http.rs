//! A small HTTP server on 127.0.0.1 for `benches/http_many.sh`: answers
//! every request with 200 and a short body, so the benchmark measures
//! gonogo, not the server. Prints the port it listens on.

#[tokio::main]
async fn main() {
    let app = axum::Router::new().fallback(|| async { "ok\n" });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a free port on 127.0.0.1");
    let port = listener.local_addr().expect("bound").port();
    println!("{port}");
    axum::serve(listener, app).await.expect("serves");
}
