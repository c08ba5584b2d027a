-- Fit2000's tables as Angelis expects them by default (ANGELIS_FIT2000_MAPPING renames them),
-- with a few sample rows. Used by docker-compose.yml (MySQL's init scripts) and by the tests,
-- which create these tables in a database of their own.
-- A Fit2000 user is one person at one faena: a person working at two faenas has two users.
CREATE TABLE usuario_faena (
  user_id INT NOT NULL PRIMARY KEY,
  rut VARCHAR(20) NOT NULL,
  faena VARCHAR(40) NOT NULL,
  KEY usuario_faena_rut (rut),
  KEY usuario_faena_faena (faena)
);

CREATE TABLE ktest (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  user_id INT NOT NULL,
  fecha DATETIME NOT NULL,
  resultado VARCHAR(20) NOT NULL,
  puntaje DECIMAL(5, 1) NULL,
  updated_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
  KEY ktest_user (user_id),
  KEY ktest_updated (updated_at, id)
);
