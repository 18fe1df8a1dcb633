//! The terminal and the event loop: worker and keyboard messages in, state
//! updates, actions out, a redraw after each batch.

use std::io;
use std::time::Duration;

use ratatui::DefaultTerminal;
use ratatui::crossterm::event::{self, Event, KeyEventKind};
use tokio::sync::mpsc;

use crate::app::{Action, App, Msg};
use crate::render::render;
use crate::workers::Workers;
use relay_admin_api::AdminClient;

/// The most queued messages applied before the screen is redrawn, so a burst
/// of events cannot starve the display.
const MAX_BATCH: usize = 256;
/// How often the keyboard thread checks whether the dashboard has quit.
const INPUT_POLL: Duration = Duration::from_millis(200);

/// Takes over the terminal and runs the dashboard until the user quits.
/// The terminal is restored on every way out, errors included.
pub async fn run(client: AdminClient, interval: Duration) -> io::Result<()> {
    let mut terminal = ratatui::try_init()?;
    let result = event_loop(&mut terminal, client, interval).await;
    let restored = ratatui::try_restore();
    result.and(restored)
}

async fn event_loop(
    terminal: &mut DefaultTerminal,
    client: AdminClient,
    interval: Duration,
) -> io::Result<()> {
    let (tx, mut rx) = mpsc::channel(1024);
    let mut app = App::new(client.base_url());
    let workers = Workers::start(client, interval, tx.clone());
    spawn_keyboard(tx);
    terminal.draw(|frame| render(frame, &app))?;
    while let Some(msg) = rx.recv().await {
        if apply(&mut app, &workers, msg) {
            return Ok(());
        }
        for _ in 0..MAX_BATCH {
            let Ok(msg) = rx.try_recv() else { break };
            if apply(&mut app, &workers, msg) {
                return Ok(());
            }
        }
        terminal.draw(|frame| render(frame, &app))?;
    }
    Ok(())
}

/// Applies a message and starts what it asks for; `true` to quit.
fn apply(app: &mut App, workers: &Workers, msg: Msg) -> bool {
    match app.update(msg) {
        Action::Quit => true,
        Action::None => false,
        action => {
            workers.perform(action);
            false
        }
    }
}

/// Reads the keyboard on its own thread (crossterm's reads block) until the
/// event loop is gone. Key presses become [`Msg::Key`]; a resize asks for a
/// redraw.
fn spawn_keyboard(tx: mpsc::Sender<Msg>) {
    std::thread::spawn(move || {
        while !tx.is_closed() {
            let msg = match event::poll(INPUT_POLL) {
                Ok(false) => continue,
                Ok(true) => match event::read() {
                    Ok(Event::Key(key)) if key.kind != KeyEventKind::Release => Msg::Key(key),
                    Ok(Event::Resize(..)) => Msg::Redraw,
                    Ok(_) => continue,
                    Err(_) => return,
                },
                Err(_) => return,
            };
            if tx.blocking_send(msg).is_err() {
                return;
            }
        }
    });
}
