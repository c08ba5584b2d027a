-- Sample rows for a Fit2000 container (docker-compose.yml); RUTs stored the way Fit2000 does (with dots).
INSERT INTO usuario_faena (user_id, rut, faena) VALUES (1, '12.345.678-5', 'F101'), (2, '11.111.111-1', 'F101');
INSERT INTO ktest (user_id, fecha, resultado, puntaje) VALUES
  (1, '2026-10-01 08:00:00', 'APROBADO', 82.5),
  (1, '2026-11-01 08:30:00', 'RECHAZADO', 41.0),
  (2, '2026-11-02 09:00:00', 'PENDIENTE', NULL);
-- Angelis reads with a user that may only SELECT.
CREATE USER IF NOT EXISTS 'angelis_reader'@'%' IDENTIFIED BY 'angelis_reader_password';
GRANT SELECT ON fit2000.* TO 'angelis_reader'@'%';
