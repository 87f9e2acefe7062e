"""Qt widgets of the plugin; they never touch pixels or Krita documents."""
