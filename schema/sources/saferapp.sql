-- SaferApp's table as Angelis expects it by default (ANGELIS_SAFERAPP_MAPPING renames it), a
-- few sample rows, and a login that may only SELECT. Run by docker-compose.yml's mssql-init.
IF DB_ID('saferapp') IS NULL CREATE DATABASE saferapp;
GO
USE saferapp;
GO
IF OBJECT_ID('dbo.bi_saferapp') IS NULL
CREATE TABLE dbo.bi_saferapp (
  id BIGINT IDENTITY(1, 1) PRIMARY KEY,
  rut NVARCHAR(20) NOT NULL,
  faena NVARCHAR(40) NOT NULL,
  fecha_test DATETIME2 NOT NULL,
  resultado NVARCHAR(20) NOT NULL
);
GO
IF NOT EXISTS (SELECT 1 FROM dbo.bi_saferapp)
INSERT INTO dbo.bi_saferapp (rut, faena, fecha_test, resultado) VALUES
  ('123456785', 'F101', '2026-10-03T10:00:00', 'APROBADO'),
  ('111111111', 'F101', '2026-11-04T11:00:00', 'RECHAZADO');
GO
IF SUSER_ID('angelis_reader') IS NULL CREATE LOGIN angelis_reader WITH PASSWORD = '$(READER_PASSWORD)';
GO
IF USER_ID('angelis_reader') IS NULL CREATE USER angelis_reader FOR LOGIN angelis_reader;
GO
ALTER ROLE db_datareader ADD MEMBER angelis_reader;
GO
